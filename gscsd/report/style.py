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
.diagram { border: 1px solid var(--rule); border-radius: 4px; }
.scenario-notes { white-space: pre-wrap; border-left: 3px solid var(--rule); padding-left: 10px; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; }
dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; word-break: break-all; }
@media print { nav { display: none; } .plot { break-inside: avoid; } h2 { break-after: avoid; } }
"""
