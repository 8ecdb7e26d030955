"""The report's stylesheet: system fonts only, so nothing is fetched from anywhere."""

CSS = """
:root { --ink: #1a1a1a; --muted: #5f6368; --rule: #d9dce1; --accent: #0072B2; --up: #0b5d91; --down: #a34a00;
        --assume: #8a5a00; --assume-bg: #fff6e0; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 18px; padding-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 17px; margin: 22px 0 6px; }
.meta, .note { color: var(--muted); }
.note { font-size: 14px; }
nav ol { columns: 2; margin: 6px 0 0; padding-left: 22px; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.changed td { background: #eef6fc; }
.good { color: var(--up); } .bad { color: var(--down); } .neutral { color: inherit; } .flat { color: var(--muted); }
code, .eq { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.eq { white-space: pre-wrap; word-break: break-word; }
tr.assumption td { background: var(--assume-bg); }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 0 6px; border-radius: 8px;
         background: var(--assume); color: #fff; margin-left: 4px; vertical-align: 1px; }
.plot { width: 100%; margin: 4px 0 12px; min-width: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 4px 18px; }
/* a diagram is drawn at its own size (gscsd.diagram): a narrower page scrolls it inside its box */
.diagram { border: 1px solid var(--rule); border-radius: 4px; overflow-x: auto; max-width: 100%; }
.scenario-notes { white-space: pre-wrap; border-left: 3px solid var(--rule); padding-left: 10px; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; }
dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; word-break: break-all; }
@media print { nav { display: none; } .plot { break-inside: avoid; } h2 { break-after: avoid; } }
"""

#: What a live report adds: the lever panel beside the report (a column of its own on wide screens, on top on
#: narrow ones), the lever rows as the dashboard draws them, the reader's summary table.
LIVE_CSS = """
body.live { display: flex; align-items: flex-start; }
body.live main { flex: 1; min-width: 0; margin: 0; }
.live-panel { width: 330px; flex: none; position: sticky; top: 0; height: 100vh; overflow-y: auto;
              padding: 14px 14px 40px; border-right: 1px solid var(--rule); background: #fbfcfd; font-size: 14px; }
.live-panel h2 { margin: 0 0 4px; font-size: 19px; border: none; }
.live-start { display: flex; align-items: center; gap: 6px; flex-wrap: wrap; margin: 8px 0 4px; }
.live-start select { flex: 1; min-width: 0; font: inherit; }
.button { font: inherit; padding: 3px 10px; border: 1px solid var(--rule); border-radius: 4px; background: #fff;
          cursor: pointer; }
.button:hover, .button:focus-visible { border-color: var(--accent); }
.live-status { min-height: 1.5em; margin: 4px 0; color: var(--muted); font-size: 13px; }
.live-status.error { color: var(--down); font-weight: 600; }
.lever-group summary { font-weight: 600; margin: 10px 0 4px; cursor: pointer; color: var(--accent); }
.lever { padding: 6px 0 4px; border-bottom: 1px dashed var(--rule); }
.lever.changed { background: #eef6fc; }
.lever-head { display: flex; align-items: baseline; gap: 6px; }
.lever-name { font-weight: 500; }
.units { color: var(--muted); font-size: 12px; }
.reset { margin-left: auto; border: none; background: none; color: var(--muted); cursor: pointer; font-size: 14px; }
.reset:hover, .reset:focus-visible { color: var(--accent); }
.help { color: var(--muted); font-size: 12px; line-height: 1.3; margin: 1px 0 2px; }
.help details { display: inline; }
.help details summary { display: inline; cursor: pointer; color: var(--accent); margin-left: 4px; }
.help details[open] { display: block; }
.lever-control { display: flex; align-items: center; gap: 6px; }
.lever-slider { flex: 1; min-width: 0; }
.lever-box { width: 84px; flex: none; padding: 2px 5px; border: 1px solid var(--rule); border-radius: 4px;
             font: inherit; font-size: 13px; }
.lever-note { color: var(--down); font-size: 12px; }
.lever-note:empty { display: none; }
.live-share textarea { width: 100%; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
                       font-size: 12px; }
.live-share summary { cursor: pointer; color: var(--accent); margin-top: 12px; }
.live-summary { border-left: 4px solid #000; padding-left: 10px; margin-bottom: 10px; }
@media (max-width: 900px) {
  body.live { display: block; }
  .live-panel { width: auto; height: auto; max-height: 60vh; position: sticky; top: 0; z-index: 5;
                border-right: none; border-bottom: 1px solid var(--rule); }
}
@media print { .live-panel { display: none; } }
"""
