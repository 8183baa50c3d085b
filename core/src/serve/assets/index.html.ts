// The page shell. Kept as a string module so `tsc` alone puts it in dist (no copy step, no bundler).
export default String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>capit</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo">$</span> capit <span id="version" class="muted"></span></div>
  <nav>
    <a href="#keys" data-page="keys">Keys</a>
    <a href="#issue" data-page="issue">Issue a key</a>
    <a href="#spend" data-page="spend">Spend</a>
    <a href="#agents" data-page="agents">Agents</a>
    <a href="#platforms" data-page="platforms">Platforms</a>
  </nav>
</header>
<main>
  <div id="locked" hidden></div>
  <div id="flash" class="flash" role="status" hidden></div>

  <section id="page-keys" class="page" hidden>
    <div class="head">
      <h1>Keys</h1>
      <a class="button primary" href="#issue">Issue a key</a>
    </div>
    <div id="summary" class="summary"></div>
    <form id="keys-filter" class="filters" autocomplete="off">
      <label>Platform <select name="platform" id="filter-platform"><option value="">All platforms</option></select></label>
      <label>Name <input name="glob" id="filter-glob" placeholder="e.g. opencode-*" spellcheck="false"></label>
      <label class="check"><input type="checkbox" name="all" id="filter-all"> Include keys capit did not issue</label>
      <button type="submit">Filter</button>
      <button type="button" id="keys-refresh" class="ghost">Refresh</button>
    </form>
    <div id="keys-errors"></div>
    <table id="keys-table" class="table">
      <thead><tr><th>Name</th><th>Platform</th><th>Agent</th><th class="spendcol">Spend</th><th class="runwaycol">Runway</th><th>Reset</th><th>Status</th><th>Created</th><th>Expires</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="keys-empty" class="empty" hidden>No keys yet. <a href="#issue">Issue one</a>.</p>
    <p id="keys-loading" class="muted" hidden>Loading keys…</p>
  </section>

  <section id="page-issue" class="page" hidden>
    <h1>Issue a capped key</h1>
    <div id="issue-setup" class="card setup" hidden>
      <h2 id="setup-title">Step 1: add a master key</h2>
      <p id="setup-text"></p>
      <form id="setup-form" class="form" autocomplete="off">
        <label>Platform <select name="platform" id="setup-platform"></select></label>
        <label>Master key <input type="password" name="key" id="setup-key" autocomplete="off" spellcheck="false" required></label>
        <div class="actions"><button type="submit" class="primary" id="setup-submit">Check and store</button> <a id="setup-link" class="button ghost" target="_blank" rel="noopener noreferrer" hidden></a></div>
      </form>
      <div id="setup-error"></div>
    </div>
    <form id="issue-form" class="card form" autocomplete="off">
      <label>Platform <select name="platform" id="issue-platform" required></select></label>
      <label>Cap (USD) <input name="amount" id="issue-amount" inputmode="decimal" placeholder="5" required></label>
      <label>Agent <select name="agent" id="issue-agent"></select></label>
      <label>Reset <select name="reset" id="issue-reset">
        <option value="">Never (lifetime cap)</option><option value="daily">Daily</option><option value="weekly">Weekly</option><option value="monthly">Monthly</option>
      </select></label>
      <label>Expires <input name="expires" id="issue-expires" placeholder="e.g. 7d, 12h or 2030-01-31" spellcheck="false"></label>
      <label>Name prefix <input name="name" id="issue-name" placeholder="default: the agent id" spellcheck="false"></label>
      <div class="actions"><button type="submit" class="primary" id="issue-preview">Preview</button></div>
    </form>
    <div id="issue-error"></div>
    <div id="plan" class="card" hidden>
      <h2>Preview — nothing has been created or changed yet</h2>
      <p id="plan-action" class="action"></p>
      <p id="plan-target"></p>
      <p id="plan-headroom" class="warning" hidden></p>
      <ul id="plan-files" class="files"></ul>
      <pre id="plan-diff" class="diff"></pre>
      <div class="actions">
        <button type="button" class="primary" id="issue-confirm">Create key</button>
        <button type="button" class="ghost" id="issue-cancel">Cancel</button>
      </div>
    </div>
    <div id="issue-result" class="card success" hidden>
      <p id="result-text" class="action"></p>
      <ul id="result-lines" class="lines"></ul>
      <div id="reveal" class="reveal" hidden>
        <p><strong>Copy this key now: it is shown once and capit does not keep it.</strong></p>
        <div class="secretrow"><code id="reveal-secret"></code><button type="button" id="reveal-copy">Copy</button></div>
      </div>
      <div class="actions"><a class="button" href="#keys">View keys</a> <button type="button" class="ghost" id="issue-another">Issue another</button></div>
    </div>
  </section>

  <!-- slice W3 (spend page): the charts are drawn by Chart.js, loaded from capit itself when this page opens. -->
  <section id="page-spend" class="page" hidden>
    <div class="head">
      <h1>Spend</h1>
      <button type="button" id="spend-refresh" class="ghost">Refresh</button>
    </div>
    <div id="spend-errors"></div>
    <div id="spend-notes"></div>
    <div class="card">
      <h2>Daily spend per agent, last 30 days <span class="muted">(UTC days, stacked by model)</span></h2>
      <div class="chart-box"><canvas id="spend-daily" role="img" aria-label="Daily spend per agent, stacked by model"></canvas></div>
      <div id="spend-legend" class="legend"></div>
      <p id="spend-empty" class="muted" hidden>No spend recorded in these days.</p>
    </div>
    <div class="card">
      <h2>Burn rate <span class="muted">(USD per hour: today's average since 00:00 UTC)</span></h2>
      <div class="chart-box short"><canvas id="spend-burn" role="img" aria-label="Burn rate per agent"></canvas></div>
      <ul id="spend-burn-list" class="lines"></ul>
    </div>
  </section>
  <!-- end of slice W3 -->

  <section id="page-agents" class="page" hidden>
    <h1>Agents</h1>
    <div id="agents-error"></div>
    <div id="agents-list" class="cards"></div>
  </section>

  <section id="page-platforms" class="page" hidden>
    <h1>Platforms</h1>
    <p class="muted">Master keys are write-only here: capit never sends them back to this page.</p>
    <div id="platforms-error"></div>
    <table id="platforms-table" class="table">
      <thead><tr><th>Platform</th><th>Master key</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
    <form id="platform-add" class="card form" autocomplete="off">
      <h2>Add a master key</h2>
      <label>Platform <select name="platform" id="add-platform"></select></label>
      <label>Master key <input type="password" name="key" id="add-key" autocomplete="off" spellcheck="false" required></label>
      <div class="actions"><button type="submit" class="primary" id="add-submit">Check and store</button></div>
    </form>
  </section>
</main>

<div id="modal" class="modal" hidden>
  <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="modal-text">
    <p id="modal-text"></p>
    <label id="modal-force-row" class="check" hidden><input type="checkbox" id="modal-force"> <span id="modal-force-label"></span></label>
    <div class="actions">
      <button type="button" class="ghost" id="modal-cancel">Cancel</button>
      <button type="button" class="danger" id="modal-ok">OK</button>
    </div>
  </div>
</div>
</body>
</html>
`;
