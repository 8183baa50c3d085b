// The GUI's script (served as /app.js): plain DOM code, no framework. A string module so `tsc` alone puts it in dist.
// Written without template literals so it can live in String.raw. Every value from the server goes through
// textContent, never innerHTML: key names come from the provider.
export default String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var meta = null;
  var agentsCache = null;
  var currentPlan = null;
  // Master key status by platform id, from /api/platforms (never the key itself).
  var masterKeys = null;

  // The access token: read once from the address (#token=…, or ?token=…), then kept in sessionStorage, which is per
  // origin (so per port) and per tab. It goes out only in the X-Capit-Token header of this page's own API calls;
  // never in a cookie, which the browser would also send to every other server on 127.0.0.1.
  var TOKEN_STORE = 'capit-token';
  var token = takeToken();
  function takeToken() {
    var found = null;
    var inHash = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    var inQuery = new URLSearchParams(location.search).get('token');
    if (inHash) found = decodeURIComponent(inHash[1]);
    else if (inQuery) found = inQuery;
    // Out of the address bar and this history entry: a shared screen, a bookmark or the history never shows it.
    if (inHash || inQuery !== null) history.replaceState(null, '', location.pathname);
    try {
      if (found) sessionStorage.setItem(TOKEN_STORE, found);
      else found = sessionStorage.getItem(TOKEN_STORE);
    } catch (e) { /* storage disabled: the token lives in memory for this page only */ }
    return found || null;
  }
  function forgetToken() {
    token = null;
    try { sessionStorage.removeItem(TOKEN_STORE); } catch (e) { /* nothing stored */ }
  }

  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) for (var k in props) {
      if (k === 'text') node.textContent = props[k];
      else if (k === 'className') node.className = props[k];
      else if (k === 'on') for (var ev in props.on) node.addEventListener(ev, props.on[ev]);
      else if (k === 'dataset') for (var d in props.dataset) node.dataset[d] = props.dataset[d];
      else node.setAttribute(k, props[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function api(method, path, body) {
    if (!token) return Promise.reject(locked('This page has no access token.'));
    var init = {method: method, credentials: 'omit', headers: {accept: 'application/json', 'x-capit-token': token}};
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var info = data && data.error ? data.error : {};
          if (res.status === 401) { forgetToken(); throw locked(info.message || 'The access token is not valid.'); }
          var err = new Error(info.message || 'The capit server answered with HTTP status ' + res.status + '.');
          err.hint = info.hint || null; err.status = res.status; err.data = data;
          throw err;
        }
        return data;
      });
    }, function () {
      var err = new Error('The capit server does not answer.');
      err.hint = 'It stops when you press Ctrl-C in its terminal or close that terminal; start capit serve again and open the new address it prints.';
      throw err;
    });
  }

  // No (valid) token: say how to get one, once, at the top of the page.
  function locked(message) {
    var err = new Error(message);
    err.hint = 'Open the full address capit serve printed in your terminal (it ends in #token=…); it changes every time capit serve starts.';
    err.locked = true;
    showLocked(err);
    return err;
  }
  function showLocked(err) {
    var box = $('locked');
    clear(box).appendChild(errorBox(err));
    box.hidden = false;
    document.body.dataset.locked = 'true';
  }

  // An error as sentences: what happened, then (on its own line) what to do about it.
  function errorBox(error) {
    return el('div', {className: 'error', role: 'alert'},
      el('span', {className: 'message', text: error.message || String(error)}),
      error.hint ? el('span', {className: 'hint', text: error.hint}) : null);
  }
  function showError(container, error) {
    clear(container);
    if (error && !error.locked) container.appendChild(errorBox(error));
  }
  var flashTimer = null;
  function flash(text) {
    var node = $('flash');
    node.textContent = text; node.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { node.hidden = true; }, 8000);
  }

  // A confirmation that cannot be skipped by accident: Cancel is focused, OK is labelled with the action.
  function confirmBox(text, okLabel, force) {
    return new Promise(function (resolve) {
      $('modal-text').textContent = text;
      $('modal-ok').textContent = okLabel || 'OK';
      $('modal-force-row').hidden = !force;
      $('modal-force').checked = false;
      if (force) $('modal-force-label').textContent = force;
      $('modal').hidden = false;
      $('modal-cancel').focus();
      function done(value) {
        $('modal').hidden = true;
        $('modal-ok').removeEventListener('click', yes);
        $('modal-cancel').removeEventListener('click', no);
        document.removeEventListener('keydown', key);
        resolve(value);
      }
      function yes() { done(force ? {force: $('modal-force').checked} : true); }
      function no() { done(false); }
      function key(e) { if (e.key === 'Escape') no(); }
      $('modal-ok').addEventListener('click', yes);
      $('modal-cancel').addEventListener('click', no);
      document.addEventListener('keydown', key);
    });
  }

  function money(n) { return n === null || n === undefined ? '—' : '$' + Number(n).toFixed(2); }
  function day(s) { return s ? String(s).slice(0, 10) : '—'; }

  function spendBar(spent, cap) {
    var bar = el('div', {className: 'bar'});
    var fill = el('span');
    var ratio = cap ? Math.min(1, spent / cap) : (spent > 0 ? 1 : 0);
    if (!cap) bar.classList.add('nocap');
    else if (ratio >= 1) bar.classList.add('full');
    else if (ratio >= 0.8) bar.classList.add('warn');
    fill.style.width = (ratio * 100).toFixed(1) + '%';
    bar.appendChild(fill);
    bar.setAttribute('role', 'meter');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(cap || 0));
    bar.setAttribute('aria-valuenow', String(spent));
    return bar;
  }

  // ---------------------------------------------------------------------------------------------------- keys
  function keyFilters() {
    var q = new URLSearchParams();
    if ($('filter-platform').value) q.set('platform', $('filter-platform').value);
    if ($('filter-glob').value.trim()) q.set('glob', $('filter-glob').value.trim());
    if ($('filter-all').checked) q.set('all', '1');
    var s = q.toString();
    return s ? '?' + s : '';
  }

  function loadKeys() {
    $('keys-loading').hidden = false;
    return api('GET', '/api/keys' + keyFilters()).then(function (data) {
      $('keys-loading').hidden = true;
      clear($('keys-errors'));
      data.errors.forEach(function (e) {
        $('keys-errors').appendChild(errorBox({message: 'Could not list the ' + platformName(e.platform) + ' keys. ' + e.message}));
      });
      // A platform the user never set up stays quiet, unless they filter for it or none is set up at all.
      var skipped = data.skipped || [];
      var noneSetUp = meta && skipped.length > 0 && skipped.length === meta.platforms.length;
      if (noneSetUp) {
        $('keys-errors').appendChild(el('div', {className: 'note'}, 'No platform has a master key yet, so there are no keys to list. ', el('a', {href: '#issue', text: 'Add one and issue a key'})));
      } else skipped.forEach(function (s) {
        if ($('filter-platform').value !== s.platform) return;
        $('keys-errors').appendChild(el('div', {className: 'note muted'}, 'No ' + platformName(s.platform) + ' master key, so its keys cannot be listed — ', el('a', {href: '#platforms', text: 'add one'})));
      });
      renderKeys(data.keys);
    }, function (error) {
      $('keys-loading').hidden = true;
      showError($('keys-errors'), error);
      renderKeys([]);
    });
  }

  function platformName(id) {
    var p = meta && meta.platforms.filter(function (x) { return x.id === id; })[0];
    return p ? p.displayName : id;
  }

  function renderSummary(keys) {
    var box = clear($('summary'));
    var by = {};
    keys.forEach(function (k) {
      var s = by[k.platform] || (by[k.platform] = {spent: 0, cap: 0, capped: 0, count: 0, uncapped: 0});
      s.count++;
      s.spent += k.spentUsd || 0;
      if (k.capUsd !== null && k.capUsd !== undefined) { s.cap += k.capUsd; s.capped++; } else s.uncapped++;
    });
    Object.keys(by).sort().forEach(function (id) {
      var s = by[id];
      box.appendChild(el('div', {className: 'card platform-summary', dataset: {platform: id}},
        el('div', {className: 'title'}, el('span', {text: platformName(id)}), el('span', {className: 'muted', text: s.count + (s.count === 1 ? ' key' : ' keys')})),
        spendBar(s.spent, s.cap),
        el('div', {className: 'nums', text: money(s.spent) + ' spent of ' + money(s.cap) + ' capped' + (s.uncapped ? ' (' + s.uncapped + ' without a cap)' : '')})));
    });
  }

  function renderKeys(keys) {
    renderSummary(keys);
    var body = clear($('keys-table').querySelector('tbody'));
    $('keys-table').hidden = keys.length === 0;
    $('keys-empty').hidden = keys.length !== 0;
    keys.forEach(function (k) {
      var actions = el('td', {className: 'actions-cell'});
      if (k.issuedByCapit || $('filter-all').checked) {
        actions.appendChild(el('button', {className: 'small', type: 'button', text: k.disabled ? 'Enable' : 'Disable',
          on: {click: function () { keyAction(k, k.disabled ? 'enable' : 'disable'); }}}));
        actions.appendChild(el('button', {className: 'small danger', type: 'button', text: 'Delete',
          on: {click: function () { keyAction(k, 'delete'); }}}));
      }
      body.appendChild(el('tr', {dataset: {name: k.name, platform: k.platform, status: k.status}},
        el('td', {className: 'name', text: k.name}),
        el('td', {text: platformName(k.platform)}),
        el('td', {text: k.agent || '—'}),
        el('td', null, el('div', {className: 'spend'}, spendBar(k.spentUsd || 0, k.capUsd),
          el('span', {className: 'nums', text: money(k.spentUsd) + ' / ' + (k.capUsd === null ? 'no cap' : money(k.capUsd))}))),
        runwayCell(k),
        el('td', {text: k.reset || 'lifetime'}),
        el('td', null, el('span', {className: 'status ' + k.status, text: k.status})),
        el('td', {text: day(k.createdAt)}),
        el('td', {text: day(k.expiresAt)}),
        actions));
    });
  }

  // ----- slice W3: runway and alert state per key, from one listing: the window's spend over the time since the
  // window began (00:00 UTC for daily, Monday for weekly, the 1st for monthly, the key's creation for a lifetime cap).
  var ALERT_THRESHOLDS = [50, 80, 100];
  var HOUR = 3600000;
  function windowBounds(reset, now) {
    var d = new Date(now);
    var start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    if (reset === 'daily') return {start: start, end: start + 24 * HOUR};
    if (reset === 'weekly') {
      var monday = start - ((d.getUTCDay() + 6) % 7) * 24 * HOUR;
      return {start: monday, end: monday + 7 * 24 * HOUR};
    }
    if (reset === 'monthly') return {start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)};
    return {start: null, end: null};
  }
  function when(ms, now) {
    var t = new Date(ms);
    var time = t.toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
    if (new Date(now).toDateString() === t.toDateString()) return 'at ' + time;
    return 'on ' + t.toLocaleDateString([], {month: 'short', day: 'numeric'}) + ' ' + time;
  }
  function rateText(usdPerHour) {
    return '$' + (usdPerHour >= 1 ? usdPerHour.toFixed(2) : usdPerHour.toFixed(3)) + '/h';
  }
  function paceOf(k, now) {
    var cap = k.capUsd, spent = k.spentUsd || 0;
    if (cap === null || cap === undefined) return {alert: 'none', label: 'no cap', text: 'no cap, so no runway'};
    var share = cap > 0 ? spent / cap * 100 : 100;
    var reached = ALERT_THRESHOLDS.filter(function (t) { return share >= t; });
    var top = reached.length ? reached[reached.length - 1] : null;
    var pace = {alert: top === null ? 'ok' : top >= 100 ? 'bad' : 'warn', label: top === null ? 'under 50 %' : top >= 100 ? 'cap reached' : 'over ' + top + ' %'};
    if (top !== null && top >= 100) { pace.text = k.reset ? 'until the ' + k.reset + ' reset' : 'no spend left'; return pace; }
    if (k.disabled) { pace.text = 'key disabled'; return pace; }
    var bounds = windowBounds(k.reset, now);
    var created = k.createdAt ? Date.parse(k.createdAt) : NaN;
    var start = bounds.start === null ? created : isNaN(created) ? bounds.start : Math.max(bounds.start, created);
    var hours = (now - start) / HOUR;
    // Too short a time, or no spend yet: a rate from it would be noise, so say so instead of a guess.
    if (isNaN(start) || !(hours >= 0.25) || !(spent > 0)) { pace.text = 'no data'; return pace; }
    var rate = spent / hours;
    var runsOut = now + (cap - spent) / rate * HOUR;
    pace.rate = rate;
    if (bounds.end !== null && runsOut >= bounds.end) pace.text = rateText(rate) + ' — lasts until the ' + k.reset + ' reset';
    else {
      pace.text = rateText(rate) + ' — runs out ' + when(runsOut, now);
      // On pace to hit the cap before the window resets: the alert a watcher would raise, shown before it happens.
      if (pace.alert === 'ok' && bounds.end !== null) { pace.alert = 'warn'; pace.label = 'on pace for the cap'; }
    }
    return pace;
  }
  function runwayCell(k) {
    var pace = paceOf(k, Date.now());
    return el('td', {className: 'runwaycell'}, el('div', {className: 'runway'},
      el('span', {className: 'alert ' + pace.alert, text: pace.label}),
      el('span', {className: 'text', text: pace.text})));
  }
  // ----- end of slice W3

  function keyAction(k, action) {
    var words = {
      disable: 'Disable the key "' + k.name + '" on ' + platformName(k.platform) + '? Requests made with it will be refused until you enable it again.',
      enable: 'Enable the key "' + k.name + '" on ' + platformName(k.platform) + ' again?',
      delete: 'Delete the key "' + k.name + '" on ' + platformName(k.platform) + '? This cannot be undone' + (k.agent ? '; ' + k.agent + ' will stop working until it gets a new key.' : '.'),
    };
    var label = {disable: 'Disable', enable: 'Enable', delete: 'Delete'}[action];
    return confirmBox(words[action], label).then(function (yes) {
      if (!yes) return;
      return api('POST', '/api/keys/' + action, {platform: k.platform, id: k.id, name: k.name}).then(function () {
        flash({disable: 'Disabled ', enable: 'Enabled ', delete: 'Deleted '}[action] + k.name);
        return loadKeys();
      }, function (error) { showError($('keys-errors'), error); });
    });
  }

  // ---------------------------------------------------------------------------------------------------- issue
  function fillAgents() {
    var select = $('issue-agent');
    var platform = $('issue-platform').value;
    var keep = select.value;
    clear(select);
    select.appendChild(el('option', {value: '', text: 'No agent — show the key once'}));
    var list = agentsCache || (meta ? meta.agents : []);
    var detected = list.filter(function (a) { return a.detected !== false; });
    var other = list.filter(function (a) { return a.detected === false; });
    function add(group, a) {
      var supports = !a.platforms || a.platforms.indexOf(platform) !== -1;
      var opt = el('option', {value: a.id, text: (a.displayName || a.id) + (supports ? '' : ' (cannot use ' + platformName(platform) + ' keys)')});
      if (!supports) opt.disabled = true;
      group.appendChild(opt);
    }
    if (agentsCache) {
      var g1 = el('optgroup', {label: 'Detected'});
      detected.forEach(function (a) { add(g1, a); });
      if (detected.length) select.appendChild(g1);
      var g2 = el('optgroup', {label: 'Not detected'});
      other.forEach(function (a) { add(g2, a); });
      if (other.length) select.appendChild(g2);
    } else list.forEach(function (a) { add(select, a); });
    if (keep && select.querySelector('option[value="' + CSS.escape(keep) + '"]:not([disabled])')) select.value = keep;
  }

  function issueInputs() {
    return {
      platform: $('issue-platform').value, amount: $('issue-amount').value.trim(), agent: $('issue-agent').value || undefined,
      reset: $('issue-reset').value || undefined, expires: $('issue-expires').value.trim() || undefined, name: $('issue-name').value.trim() || undefined,
    };
  }

  function renderDiff(pre, text) {
    clear(pre);
    text.split('\n').forEach(function (line, i, all) {
      if (i === all.length - 1 && line === '') return;
      var cls = /^\+(?!\+\+)/.test(line) ? 'add' : /^-(?!--)/.test(line) ? 'del' : /^@@/.test(line) ? 'hunk' : null;
      pre.appendChild(el('span', cls ? {className: cls} : null, line + '\n'));
    });
  }

  // The issue form works only for a platform with a master key: without one, the add-a-master-key step comes first.
  function readyPlatforms() {
    if (!meta || !masterKeys) return [];
    return meta.platforms.filter(function (p) { return masterKeys[p.id] && masterKeys[p.id].source !== 'none'; });
  }

  // The default: a platform with a master key (any platform when none has one yet), the one the most detected
  // agents can use, then the most agents at all, then the plugin order.
  function defaultPlatform() {
    var ready = readyPlatforms();
    var candidates = ready.length ? ready : (meta ? meta.platforms : []);
    if (!candidates.length) return null;
    var agents = agentsCache || (meta ? meta.agents : []);
    function usable(id, onlyDetected) {
      return agents.filter(function (a) { return (!onlyDetected || a.detected) && (!a.platforms || a.platforms.indexOf(id) !== -1); }).length;
    }
    function better(p, q) { return usable(p.id, true) - usable(q.id, true) || usable(p.id, false) - usable(q.id, false); }
    var best = candidates[0];
    candidates.forEach(function (p) { if (better(p, best) > 0) best = p; });
    return best.id;
  }

  function updateIssueSetup() {
    if (!meta || !masterKeys) return;
    var platform = $('issue-platform').value;
    var status = masterKeys[platform];
    var anyReady = readyPlatforms().length > 0;
    var missing = !status || status.source === 'none';
    var setup = $('issue-setup');
    setup.hidden = !missing;
    $('issue-form').hidden = !anyReady;
    $('issue-preview').disabled = missing;
    if (!missing) return;
    var name = platformName(platform);
    $('setup-title').textContent = anyReady ? 'No ' + name + ' master key yet' : 'Step 1: add a master key';
    $('setup-text').textContent = anyReady
      ? 'capit needs a ' + name + ' master key to create ' + name + ' keys. Add one here, or choose a platform that has one.'
      : 'capit creates capped keys with a platform\'s master (management) key, and none is set up yet. Add one to start; capit checks it with the provider and stores it readable only by you.';
    if ($('setup-platform').value !== platform) $('setup-platform').value = platform;
    var link = $('setup-link');
    link.hidden = !(status && status.setupUrl);
    if (status && status.setupUrl) { link.href = status.setupUrl; link.textContent = 'Create a ' + name + ' master key'; }
  }

  function loadMasterKeys() {
    return api('GET', '/api/platforms').then(function (d) {
      masterKeys = {};
      d.platforms.forEach(function (p) { masterKeys[p.id] = p; });
      return d;
    });
  }

  function loadIssuePage() {
    showError($('issue-error'), null);
    return Promise.all([loadMasterKeys(), loadAgents()]).then(function () {
      if (!$('issue-platform').dataset.touched) {
        var best = defaultPlatform();
        if (best) $('issue-platform').value = best;
        fillAgents();
      }
      updateIssueSetup();
    }, function (error) { showError($('issue-error'), error); });
  }

  function addSetupKey(e) {
    e.preventDefault();
    var platform = $('setup-platform').value;
    $('setup-submit').disabled = true;
    showError($('setup-error'), null);
    api('POST', '/api/platforms/add', {platform: platform, key: $('setup-key').value}).then(function (r) {
      $('setup-key').value = '';
      flash(r.message);
      $('issue-platform').value = platform;
      $('issue-platform').dataset.touched = '1';
      fillAgents();
      return loadMasterKeys().then(updateIssueSetup);
    }, function (error) { showError($('setup-error'), error); }).then(function () { $('setup-submit').disabled = false; });
  }

  function preview(e) {
    e.preventDefault();
    showError($('issue-error'), null);
    $('issue-result').hidden = true;
    $('plan').hidden = true;
    currentPlan = null;
    $('issue-preview').disabled = true;
    api('POST', '/api/issue/plan', issueInputs()).then(function (data) {
      currentPlan = data;
      var p = data.plan;
      $('plan-action').textContent = p.action + '.';
      $('plan-target').textContent = p.agent ? 'Install it into ' + p.agent + ':' : 'No agent: the new key will be shown once on this page.';
      // Headroom preflight (issue 14, B5): the cap is below one worst-case request of the agent's model.
      var headroom = p.headroom && p.headroom.warning;
      $('plan-headroom').textContent = headroom ? 'warning: ' + headroom : '';
      $('plan-headroom').hidden = !headroom;
      var files = clear($('plan-files'));
      p.files.forEach(function (f) { files.appendChild(el('li', null, el('code', {text: f.path}), f.exists ? ' (edited; the current file is backed up first)' : ' (created)')); });
      renderDiff($('plan-diff'), p.diff || '');
      $('plan-diff').hidden = !p.diff;
      $('issue-confirm').textContent = p.agent ? 'Create key and configure ' + p.agent : 'Create key';
      $('plan').hidden = false;
    }, function (error) { showError($('issue-error'), error); }).then(function () { $('issue-preview').disabled = false; });
  }

  function confirmIssue() {
    if (!currentPlan) return;
    var planId = currentPlan.planId;
    $('issue-confirm').disabled = true;
    api('POST', '/api/issue', {planId: planId}).then(function (r) {
      currentPlan = null;
      $('plan').hidden = true;
      $('result-text').textContent = r.agent
        ? money(r.capUsd) + ' ' + r.platform + ' key "' + r.name + '" installed into ' + r.agent
        : money(r.capUsd) + ' ' + r.platform + ' key "' + r.name + '" created';
      var lines = clear($('result-lines'));
      r.files.forEach(function (f) { lines.appendChild(el('li', null, 'Wrote ', el('code', {text: f}))); });
      if (r.backupDir && r.hadExistingFiles) lines.appendChild(el('li', null, 'Old configuration backed up to ', el('code', {text: r.backupDir})));
      (r.notes || []).forEach(function (n) { lines.appendChild(el('li', {text: n})); });
      (r.shadows || []).forEach(function (s) { lines.appendChild(el('li', {className: 'warning', text: 'warning: ' + s})); });
      if (r.secret) {
        $('reveal-secret').textContent = r.secret;
        $('reveal').hidden = false;
      } else $('reveal').hidden = true;
      $('issue-result').hidden = false;
    }, function (error) {
      showError($('issue-error'), error);
    }).then(function () { $('issue-confirm').disabled = false; });
  }

  function forgetSecret() {
    $('reveal-secret').textContent = '';
    $('reveal').hidden = true;
  }

  // ---------------------------------------------------------------------------------------------------- agents
  function loadAgents() {
    return api('GET', '/api/agents').then(function (data) {
      showError($('agents-error'), data.doctorError || null);
      agentsCache = data.agents.map(function (a) { return {id: a.id, displayName: a.name, detected: a.detected, platforms: a.platforms}; });
      fillAgents();
      renderAgents(data.agents, data.doctor || []);
    }, function (error) {
      agentsCache = null;
      showError($('agents-error'), error);
    });
  }

  function renderAgents(list, reports) {
    var box = clear($('agents-list'));
    // Detected agents first, then the ones with a capit install, then the rest.
    list = list.slice().sort(function (a, b) { return (b.detected - a.detected) || (!!b.installed - !!a.installed) || a.id.localeCompare(b.id); });
    list.forEach(function (a) {
      var paths = el('ul', {className: 'paths'});
      (a.configPaths || []).forEach(function (p) { paths.appendChild(el('li', null, el('code', {text: p}))); });
      var card = el('div', {className: 'card agent', dataset: {agent: a.id, detected: String(a.detected)}},
        el('div', {className: 'head'}, el('h2', {text: a.name}),
          el('span', {className: 'badge' + (a.detected ? ' yes' : ''), text: a.detected ? 'detected' : 'not detected'})),
        a.configPaths && a.configPaths.length ? paths : null,
        el('div', {className: 'muted status-line', text: a.error || a.status}));
      reports.filter(function (r) { return r.agent === a.id; }).forEach(function (r) {
        if (r.status === 'shadowed' || r.status === 'changed' || r.status === 'redirected') {
          card.appendChild(el('div', {className: 'warning shadow', text: 'warning: ' + r.message}));
          r.shadowedBy.forEach(function (s) { card.appendChild(el('div', {className: 'warning shadow', text: s + ' wins over the capped key: unset or remove it for ' + a.id + ' to use the capped key'})); });
          // REDIRECTED (per flavour when the agent has several): a base URL sends the requests to another host.
          (r.flavours && r.flavours.length ? r.flavours : [r]).forEach(function (v) {
            if (v.status !== 'redirected') return;
            card.appendChild(el('div', {className: 'warning redirect', text: (v.flavour ? v.flavour + ': ' : '') + v.redirectedBy + ' sends ' + a.id + '\'s requests ' +
              (v.redirectedTo ? 'to ' + v.redirectedTo : 'somewhere capit cannot read') + ', not to ' + r.platform + ': unset or remove it for the cap to apply'}));
          });
        } else if (r.message) card.appendChild(el('div', {className: 'muted doctor', text: r.platform + ': ' + r.message}));
      });
      // Only where capit has a backup to put back: for an agent capit never touched the button could only fail.
      if (a.restorable) card.appendChild(el('div', {className: 'actions'}, el('button', {type: 'button', text: 'Restore configuration', dataset: {restore: a.id},
        on: {click: function () { restore(a.id, card); }}})));
      // capit why <agent> (slice B1): only for an agent holding a capit key.
      if (reports.some(function (r) { return r.agent === a.id && r.installed; }))
        card.appendChild(el('div', {className: 'actions'}, el('button', {type: 'button', text: 'Why?', dataset: {why: a.id},
          on: {click: function () { explain(a.id, card); }}})));
      // slice B4: only for an agent holding a capit key.
      if (a.rotatable) card.appendChild(el('div', {className: 'actions'}, el('button', {type: 'button', text: 'Rotate key', dataset: {rotate: a.id},
        on: {click: function () { rotate(a.id, card); }}})));
      if (a.installed) card.appendChild(topupForm(a.id, card));
      box.appendChild(card);
    });
  }

  function explain(agent, card) {
    var old = card.querySelector('.why');
    if (old) old.remove();
    return api('GET', '/api/why?agent=' + encodeURIComponent(agent)).then(function (data) {
      data.reports.forEach(function (r) {
        card.appendChild(el('div', {className: 'why ' + (r.class === 'fine' ? 'flash' : 'warning'), dataset: {whyClass: r.class}},
          el('div', {text: r.class + ': ' + r.summary}), r.fix ? el('div', null, 'fix: ', el('code', {text: r.fix})) : null));
      });
    }, function (error) {
      card.appendChild(el('div', {className: 'why error', role: 'alert'},
        el('span', {className: 'message', text: error.message}), error.hint ? el('span', {className: 'hint', text: error.hint}) : null));
    });
  }

  // slice B4: capit rotate <agent>: a new key with the same settings, then the old one deleted.
  function rotate(agent, card) {
    return confirmBox('Replace ' + agent + "'s key with a new one (same cap, reset and expiry), then delete the old key?", 'Rotate').then(function (answer) {
      if (!answer) return;
      var old = card.querySelector('.error, .rotated');
      if (old) old.remove();
      return api('POST', '/api/agents/rotate', {agent: agent}).then(function (r) {
        card.appendChild(el('div', {className: r.status === 'rotated' ? 'flash rotated' : 'warning rotated', text: r.message}));
      }, function (error) {
        card.appendChild(el('div', {className: 'error', role: 'alert'},
          el('span', {className: 'message', text: error.message}), error.hint ? el('span', {className: 'hint', text: error.hint}) : null));
      });
    });
  }

  // ----- slice B3 (topup): raise the cap of the key an agent holds, for good or for a while.
  function topupForm(agent, card) {
    var amount = el('input', {type: 'text', inputmode: 'decimal', placeholder: 'USD, e.g. 5', 'aria-label': 'Top-up amount in USD', dataset: {topupAmount: agent}});
    var duration = el('input', {type: 'text', placeholder: 'for (optional): 2h', 'aria-label': 'Take the raise back after', dataset: {topupFor: agent}});
    return el('form', {className: 'actions topup', dataset: {topup: agent}, on: {submit: function (ev) {
      ev.preventDefault();
      var old = card.querySelector('.error, .topped-up');
      if (old) old.remove();
      var what = '$' + amount.value.replace(/^\$/, '') + (duration.value ? ' for ' + duration.value : '');
      return confirmBox('Raise the cap of ' + agent + "'s key by " + what + '?', 'Top up').then(function (answer) {
        if (!answer) return;
        var body = {target: agent, amount: amount.value};
        if (duration.value) body['for'] = duration.value;
        return api('POST', '/api/topup', body).then(function (r) {
          card.appendChild(el('div', {className: 'flash topped-up', text: 'Raised ' + r.keyName + ': cap $' + r.oldCapUsd.toFixed(2) + ' \u2192 $' + r.newCapUsd.toFixed(2) +
            ' (verified)' + (r.until ? '; taken back at ' + new Date(r.until).toLocaleString() + ' by the next capit command' : '')}));
        }, function (error) {
          card.appendChild(el('div', {className: 'error', role: 'alert'},
            el('span', {className: 'message', text: error.message}), error.hint ? el('span', {className: 'hint', text: error.hint}) : null));
        });
      });
    }}}, amount, duration, el('button', {type: 'submit', text: 'Top up'}));
  }

  function restore(agent, card) {
    return confirmBox('Put ' + agent + "'s configuration back as it was before capit's last install?", 'Restore',
      'Also overwrite changes made since (--force)').then(function (answer) {
      if (!answer) return;
      var old = card.querySelector('.error, .restored');
      if (old) old.remove();
      return api('POST', '/api/agents/restore', {agent: agent, force: answer.force}).then(function (r) {
        var box = el('div', {className: 'flash restored'}, 'Restored ' + agent + ' configuration from ', el('code', {text: r.backupDir}));
        var list = el('ul', {className: 'lines'});
        r.files.forEach(function (f) { list.appendChild(el('li', null, f.action + ' ', el('code', {text: f.path}))); });
        box.appendChild(list);
        if (r.keyName) box.appendChild(el('div', {text: 'The key "' + r.keyName + '" still exists at ' + (r.platform ? platformName(r.platform) : 'the provider') + '; delete it on the Keys page.'}));
        card.appendChild(box);
        // An older install may still have a backup of its own; the button stays only then.
        return api('GET', '/api/agents').then(function (data) {
          var now = data.agents.filter(function (x) { return x.id === agent; })[0];
          var button = card.querySelector('button[data-restore]');
          if (button && !(now && now.restorable)) button.parentNode.remove();
        }, function () {});
      }, function (error) {
        card.appendChild(el('div', {className: 'error', role: 'alert'},
          el('span', {className: 'message', text: error.message}), error.hint ? el('span', {className: 'hint', text: error.hint}) : null));
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------- spend (slice W3)
  // Chart.js is capit's own dependency, served by capit at /vendor/ (the CSP allows only 'self'); loaded when the
  // page is first opened so the other pages never pay for it.
  var chartLibrary = null;
  function loadChartLibrary() {
    if (window.Chart) return Promise.resolve(window.Chart);
    if (!chartLibrary) chartLibrary = new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = '/vendor/chart.umd.min.js';
      script.onload = function () { resolve(window.Chart); };
      script.onerror = function () {
        chartLibrary = null;
        var err = new Error('The chart library did not load.');
        err.hint = 'Reload the page; if it persists, reinstall capit (its chart.js dependency may be missing).';
        reject(err);
      };
      document.head.appendChild(script);
    });
    return chartLibrary;
  }
  var charts = {};
  var PALETTE = [212, 150, 28, 340, 265, 190, 0, 95];
  function colorOf(agentIndex, modelIndex) {
    var hue = PALETTE[agentIndex % PALETTE.length];
    return 'hsl(' + hue + ', 62%, ' + Math.min(78, 40 + modelIndex * 11) + '%)';
  }
  function burnRate(b) {
    if (typeof b.usdPerHour === 'number') return b.usdPerHour;
    if (typeof b.usd === 'number' && typeof b.hours === 'number' && b.hours > 0) return b.usd / b.hours;
    return null;
  }

  function loadSpend() {
    return Promise.all([api('GET', '/api/spend'), loadChartLibrary()]).then(function (r) {
      clear($('spend-errors'));
      renderSpend(r[0], r[1]);
    }, function (error) { showError($('spend-errors'), error); });
  }

  function renderSpend(data, Chart) {
    (data.errors || []).forEach(function (e) {
      $('spend-errors').appendChild(errorBox({message: 'Could not read the ' + platformName(e.platform) + ' spend. ' + e.message}));
    });
    var notes = clear($('spend-notes'));
    (data.notes || []).forEach(function (n) { notes.appendChild(el('div', {className: 'note muted', text: n})); });
    (data.unavailable || []).forEach(function (u) { notes.appendChild(el('div', {className: 'note muted', text: platformName(u.platform) + ': ' + u.reason})); });

    var days = data.days || [];
    var series = data.series || [];
    var agents = (data.agents || []).slice();
    series.forEach(function (s) { if (agents.indexOf(s.agent) === -1) agents.push(s.agent); });
    // One dataset per agent and model; the agent is the stack, so each day shows one column per agent.
    var sets = [];
    var byKey = {};
    agents.forEach(function (agent, ai) {
      var models = [];
      series.forEach(function (s) { if (s.agent === agent && models.indexOf(s.model) === -1) models.push(s.model); });
      models.sort();
      models.forEach(function (model, mi) {
        var set = {agent: agent, model: model, color: colorOf(ai, mi), values: days.map(function () { return 0; }), total: 0};
        byKey[agent + '\u0000' + model] = set;
        sets.push(set);
      });
    });
    series.forEach(function (s) {
      var set = byKey[s.agent + '\u0000' + s.model];
      var i = days.indexOf(s.date);
      if (!set || i === -1) return;
      set.values[i] += Number(s.usd) || 0;
      set.total += Number(s.usd) || 0;
    });
    $('spend-empty').hidden = sets.some(function (s) { return s.total > 0; });

    if (charts.daily) charts.daily.destroy();
    charts.daily = new Chart($('spend-daily'), {
      type: 'bar',
      data: {
        labels: days.map(function (d) { return d.slice(5); }),
        datasets: sets.map(function (s) {
          return {label: s.agent + ' · ' + s.model, stack: s.agent, data: s.values, backgroundColor: s.color, borderRadius: 2, maxBarThickness: 22};
        }),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: {stacked: true, grid: {display: false}, ticks: {maxRotation: 0, autoSkipPadding: 10}},
          y: {stacked: true, beginAtZero: true, ticks: {callback: function (v) { return '$' + Number(v).toFixed(2); }}},
        },
        plugins: {
          // The legend is HTML below the chart: readable text, and one entry per agent with its models.
          legend: {display: false},
          tooltip: {callbacks: {label: function (c) { return c.dataset.label + ': ' + money(c.parsed.y); }}},
        },
      },
    });

    var legend = clear($('spend-legend'));
    agents.forEach(function (agent) {
      var mine = sets.filter(function (s) { return s.agent === agent; });
      var total = mine.reduce(function (a, s) { return a + s.total; }, 0);
      var box = el('div', {className: 'legend-agent', dataset: {agent: agent}},
        el('span', {className: 'name'}, agent + ' ', el('span', {className: 'total muted', text: money(total)})));
      mine.forEach(function (s) {
        var swatch = el('span', {className: 'swatch'});
        swatch.style.backgroundColor = s.color;
        box.appendChild(el('span', {className: 'model'}, swatch, el('span', {text: s.model + ' ' + money(s.total)})));
      });
      legend.appendChild(box);
    });

    var burn = (data.burn || []).map(function (b) {
      var hours = typeof b.sinceHours === 'number' ? b.sinceHours : b.sinceUtc ? (Date.now() - Date.parse(b.sinceUtc)) / 3600000 : undefined;
      return {agent: b.agent, rate: burnRate(b), hours: hours};
    });
    var list = clear($('spend-burn-list'));
    burn.forEach(function (b) {
      var since = typeof b.hours === 'number' ? ' over the last ' + (b.hours < 1 ? Math.round(b.hours * 60) + ' min' : b.hours.toFixed(1) + ' h') : '';
      list.appendChild(el('li', {dataset: {agent: b.agent}, text: b.agent + ': ' + (b.rate === null ? 'no data' : rateText(b.rate) + since)}));
    });
    if (charts.burn) charts.burn.destroy();
    charts.burn = new Chart($('spend-burn'), {
      type: 'bar',
      data: {
        labels: burn.map(function (b) { return b.agent; }),
        datasets: [{label: 'USD per hour', data: burn.map(function (b) { return b.rate || 0; }),
          backgroundColor: burn.map(function (b) { return colorOf(Math.max(0, agents.indexOf(b.agent)), 0); }), borderRadius: 3, maxBarThickness: 26}],
      },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
        scales: {x: {beginAtZero: true, ticks: {callback: function (v) { return '$' + Number(v).toFixed(2) + '/h'; }}}, y: {grid: {display: false}}},
        plugins: {legend: {display: false}, tooltip: {callbacks: {label: function (c) { return rateText(c.parsed.x); }}}},
      },
    });
  }

  // ---------------------------------------------------------------------------------------------------- platforms
  function describeMaster(p) {
    if (p.source === 'env') return 'configured via $' + p.envVar + (p.stored ? ' (a stored key is also kept)' : '');
    if (p.source === 'stored') return 'stored •••••••• (write-only)';
    return 'not configured';
  }

  function loadPlatforms() {
    return loadMasterKeys().then(function (data) {
      showError($('platforms-error'), null);
      var body = clear($('platforms-table').querySelector('tbody'));
      data.platforms.forEach(function (p) {
        var cell = el('td', {className: 'actions-cell'});
        if (p.stored) cell.appendChild(el('button', {type: 'button', className: 'small danger', text: 'Remove',
          on: {click: function () { removeMaster(p.id); }}}));
        var master = el('td', {className: 'master'}, describeMaster(p));
        if (p.source === 'none') master.appendChild(el('span', {className: 'muted'}, ' — create one at ', el('a', {href: p.setupUrl, target: '_blank', rel: 'noopener noreferrer', text: p.setupUrl})));
        body.appendChild(el('tr', {dataset: {platform: p.id, source: p.source}}, el('td', {text: p.displayName}), master, cell));
      });
    }, function (error) { showError($('platforms-error'), error); });
  }

  function addMaster(e) {
    e.preventDefault();
    var key = $('add-key').value;
    var platform = $('add-platform').value;
    $('add-submit').disabled = true;
    showError($('platforms-error'), null);
    api('POST', '/api/platforms/add', {platform: platform, key: key}).then(function (r) {
      $('add-key').value = '';
      flash(r.message);
      return loadPlatforms();
    }, function (error) { showError($('platforms-error'), error); }).then(function () { $('add-submit').disabled = false; });
  }

  function removeMaster(id) {
    return confirmBox('Remove the stored ' + platformName(id) + ' master key? Keys already issued keep working.', 'Remove').then(function (yes) {
      if (!yes) return;
      return api('POST', '/api/platforms/remove', {platform: id}).then(function (r) {
        flash(r.message);
        return loadPlatforms();
      }, function (error) { showError($('platforms-error'), error); });
    });
  }

  // ---------------------------------------------------------------------------------------------------- routing
  var pages = {keys: loadKeys, issue: loadIssuePage, spend: loadSpend, agents: loadAgents, platforms: loadPlatforms};
  function route() {
    // A new address pasted into this tab (capit serve restarted on the same --port) changes only the fragment.
    if (/(?:^#|&)token=/.test(location.hash)) {
      token = takeToken();
      $('locked').hidden = true;
      delete document.body.dataset.locked;
      if (!meta) { init(); return; }
    }
    if (!meta) return;
    var page = (location.hash || '#keys').slice(1);
    if (!pages[page]) page = 'keys';
    if (page !== 'issue') forgetSecret();
    Object.keys(pages).forEach(function (p) { $('page-' + p).hidden = p !== page; });
    document.querySelectorAll('nav a').forEach(function (a) { a.classList.toggle('active', a.dataset.page === page); });
    document.body.dataset.page = page;
    var done = pages[page]();
    Promise.resolve(done).then(function () { document.body.dataset.ready = page; });
  }

  var started = false;
  function init() {
    delete document.body.dataset.ready;
    if (!started) { started = true; window.addEventListener('hashchange', route); }
    if (!token) { locked('This page has no access token.'); document.body.dataset.ready = 'locked'; return; }
    api('GET', '/api/meta').then(function (m) {
      meta = m;
      $('version').textContent = 'v' + m.version;
      m.platforms.forEach(function (p) {
        $('filter-platform').appendChild(el('option', {value: p.id, text: p.displayName}));
        $('issue-platform').appendChild(el('option', {value: p.id, text: p.displayName}));
        $('add-platform').appendChild(el('option', {value: p.id, text: p.displayName}));
        $('setup-platform').appendChild(el('option', {value: p.id, text: p.displayName}));
      });
      fillAgents();
      $('issue-platform').addEventListener('change', function () { $('issue-platform').dataset.touched = '1'; updateIssueSetup(); });
      $('setup-platform').addEventListener('change', function () {
        $('issue-platform').value = $('setup-platform').value;
        $('issue-platform').dataset.touched = '1';
        fillAgents();
        updateIssueSetup();
      });
      $('setup-form').addEventListener('submit', addSetupKey);
      $('keys-filter').addEventListener('submit', function (e) { e.preventDefault(); loadKeys(); });
      $('keys-refresh').addEventListener('click', loadKeys);
      $('issue-platform').addEventListener('change', fillAgents);
      $('issue-form').addEventListener('submit', preview);
      $('issue-form').addEventListener('input', function () { if (!$('plan').hidden) { $('plan').hidden = true; currentPlan = null; } });
      $('issue-confirm').addEventListener('click', confirmIssue);
      $('issue-cancel').addEventListener('click', function () { $('plan').hidden = true; currentPlan = null; });
      $('issue-another').addEventListener('click', function () { forgetSecret(); $('issue-result').hidden = true; });
      $('reveal-copy').addEventListener('click', function () {
        navigator.clipboard.writeText($('reveal-secret').textContent).then(function () { flash('Copied'); }, function () { flash('Copy failed: select the key and copy it'); });
      });
      $('platform-add').addEventListener('submit', addMaster);
      $('spend-refresh').addEventListener('click', loadSpend);
      route();
    }, function (error) {
      if (!error.locked) showLocked(error);
      document.body.dataset.ready = 'locked';
    });
  }
  init();
})();
`;
