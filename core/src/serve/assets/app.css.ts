// Styles of the GUI (served as /app.css). A string module so `tsc` alone puts it in dist.
export default String.raw`:root {
  --bg: #f6f7f9; --fg: #1d2330; --muted: #6b7385; --line: #e1e4ea; --card: #fff;
  --accent: #2f6feb; --accent-fg: #fff; --ok: #1f9d55; --warn: #d98a00; --bad: #d63a3a;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #141a26; color: #fff; }
.brand { font-weight: 700; font-size: 16px; letter-spacing: .2px; }
.brand .logo { display: inline-block; width: 22px; height: 22px; line-height: 22px; text-align: center; border-radius: 6px; background: var(--accent); margin-right: 4px; }
.brand .muted { color: #98a2b8; font-weight: 400; font-size: 12px; margin-left: 4px; }
nav a { color: #c9d1e3; text-decoration: none; margin-right: 4px; padding: 6px 10px; border-radius: 6px; }
nav a:hover { background: #222b3d; }
nav a.active { color: #fff; background: #2a3550; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 20px; margin: 6px 0 14px; }
h2 { font-size: 15px; margin: 0 0 10px; }
.head { display: flex; justify-content: space-between; align-items: center; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin: 14px 0; }
.card.success { border-color: #b9e4c9; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 14px; }
.cards .card { margin: 0; }
button, .button { font: inherit; border: 1px solid var(--line); background: #fff; color: var(--fg); border-radius: 7px; padding: 6px 12px; cursor: pointer; text-decoration: none; display: inline-block; }
button:hover, .button:hover { border-color: #c3c9d4; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
button.ghost { background: transparent; }
button.small { padding: 3px 8px; font-size: 12px; }
button:disabled { opacity: .55; cursor: default; }
input, select { font: inherit; padding: 6px 8px; border: 1px solid #cfd4dd; border-radius: 7px; background: #fff; color: var(--fg); }
input:focus, select:focus, button:focus-visible { outline: 2px solid #9bb8f5; outline-offset: 1px; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 12px 0; }
.filters label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
.note { font-size: 13px; margin: 2px 0 8px; }
.filters label.check { align-self: center; padding-top: 14px; }
label.check { flex-direction: row !important; align-items: center; gap: 6px; color: var(--fg) !important; font-size: 13px !important; }
.form { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px 16px; }
.form h2, .form .actions { grid-column: 1 / -1; }
.form label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
.actions { display: flex; gap: 8px; margin-top: 6px; }
.table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.table th { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); background: #fafbfc; padding: 8px 10px; border-bottom: 1px solid var(--line); }
.table td { padding: 8px 10px; border-bottom: 1px solid #eef0f3; vertical-align: middle; }
.table tr:last-child td { border-bottom: 0; }
.table td.name { font-family: var(--mono); font-size: 13px; }
.table td.actions-cell { white-space: nowrap; text-align: right; }
.table td.actions-cell button { margin-left: 4px; }
.spendcol { width: 210px; }
.spend { display: flex; flex-direction: column; gap: 3px; }
.spend .nums { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.bar { height: 8px; border-radius: 4px; background: #e8ebf0; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--ok); border-radius: 4px; }
.bar.warn > span { background: var(--warn); }
.bar.full > span { background: var(--bad); }
.bar.nocap > span { background: #b8c0cf; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; margin-bottom: 6px; }
.summary .card { margin: 0; padding: 12px 14px; }
.summary .title { display: flex; justify-content: space-between; font-weight: 600; margin-bottom: 6px; }
.summary .title .muted { font-weight: 400; font-size: 12px; }
.summary .bar { height: 10px; }
.summary .nums { font-size: 12px; color: var(--muted); margin-top: 5px; }
.status { font-size: 12px; padding: 2px 8px; border-radius: 999px; background: #e7f6ee; color: #176c3c; }
.status.disabled { background: #eceef2; color: #596173; }
.status.expired, .status.capped { background: #fdecec; color: #a12828; }
.flash { border-radius: 8px; padding: 10px 14px; margin-bottom: 12px; background: #e9f2ff; border: 1px solid #c7dbff; }
.error { font-size: 13.5px; background: #fff3f3; border: 1px solid #f3c4c4; color: #8e1f1f; border-radius: 8px; padding: 10px 12px; margin: 10px 0; overflow-wrap: anywhere; }
.error .message { display: block; font-weight: 600; }
.error .hint { display: block; margin-top: 4px; color: #6e2a2a; }
.setup { border-color: #c7dbff; background: #f6f9ff; }
.setup p { margin: 0 0 10px; }
.setup .form { padding: 0; margin: 0; border: 0; background: transparent; }
.warning { white-space: pre-wrap; background: #fff8e6; border: 1px solid #f1dca5; color: #7a5400; border-radius: 8px; padding: 8px 12px; margin: 6px 0; font-size: 13px; }
.diff { font-family: var(--mono); font-size: 12.5px; background: #0f1522; color: #d7deea; padding: 12px; border-radius: 8px; overflow: auto; max-height: 420px; }
.diff .add { color: #7ee2a0; }
.diff .del { color: #ff9a9a; }
.diff .hunk { color: #8fb4ff; }
.action { font-weight: 600; }
.files, .lines { margin: 6px 0 10px; padding-left: 18px; }
.files code, .lines code, .paths code { font-family: var(--mono); font-size: 12.5px; overflow-wrap: anywhere; }
.reveal { background: #fffbe8; border: 1px solid #f0dd95; border-radius: 8px; padding: 10px 12px; margin: 10px 0; }
.secretrow { display: flex; gap: 8px; align-items: center; }
.secretrow code { flex: 1; font-family: var(--mono); background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; word-break: break-all; }
.empty { padding: 18px; text-align: center; color: var(--muted); background: var(--card); border: 1px dashed var(--line); border-radius: 10px; }
.badge { font-size: 12px; padding: 2px 8px; border-radius: 999px; background: #eceef2; color: #596173; }
.badge.yes { background: #e7f6ee; color: #176c3c; }
.paths { list-style: none; padding: 0; margin: 8px 0; }
.paths li { margin: 3px 0; }
.modal { position: fixed; inset: 0; background: rgba(14, 19, 30, .45); display: flex; align-items: center; justify-content: center; z-index: 10; }
.modal[hidden] { display: none; }
.dialog { background: #fff; border-radius: 12px; padding: 18px 20px; width: min(480px, 92vw); box-shadow: 0 12px 40px rgba(0,0,0,.25); }
.dialog p { white-space: pre-wrap; margin-top: 0; }
.dialog .actions { justify-content: flex-end; margin-top: 14px; }
/* slice B3 (topup): the Top up form on an agent card stays inside the card. */
.actions.topup { flex-wrap: wrap; }
.actions.topup input { flex: 1 1 6em; min-width: 0; width: 6em; }
/* slice W3: runway on the keys page, charts on the spend page. */
.runwaycol { width: 190px; }
.runway { display: flex; flex-direction: column; gap: 3px; font-size: 12px; }
.runway .text { color: var(--muted); }
.alert { align-self: flex-start; font-size: 11.5px; padding: 1px 8px; border-radius: 999px; background: #e7f6ee; color: #176c3c; }
.alert.warn { background: #fff4dc; color: #8a5a00; }
.alert.bad { background: #fdecec; color: #a12828; }
.alert.none { background: #eceef2; color: #596173; }
.chart-box { position: relative; height: 320px; }
.chart-box.short { height: 180px; }
.legend { display: flex; flex-wrap: wrap; gap: 8px 22px; margin-top: 12px; font-size: 13px; }
.legend .legend-agent { display: flex; flex-direction: column; gap: 2px; }
.legend .legend-agent > .name { font-weight: 600; }
.legend .model { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.legend .total { font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
[hidden] { display: none !important; }
`;
