/**
 * The inline stylesheet and script of report.html. The page must work as a
 * single file opened from disk or a CI artifact, so nothing is fetched: no
 * fonts, no CDN, no images (the CSP in html.ts enforces it).
 */

/** Inline CSS; verdict and severity colours are chosen to stay legible in print. */
export const STYLE = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#fff; --panel:#f6f8fa;
  --critical:#8b0000; --high:#c62828; --medium:#e07b00; --low:#1e6bb8; --info:#59636e; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; } h2 { border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
.muted { color: var(--muted); }
ul.notes { margin: .25rem 0 0; padding-left: 1.1rem; color: var(--muted); font-size: .9em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.status { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-weight: 600; color: #fff; }
.status.exit-0 { background: #1a7f37; } .status.exit-1 { background: var(--high); } .status.exit-2 { background: #6e40c9; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; } .card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
.card b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--panel); } .scroll { overflow-x: auto; }
table.matrix td { text-align: center; font-weight: 600; white-space: nowrap; }
.probes { display: block; font-size: .75rem; font-weight: 400; opacity: .8; }
.v-allowed { background: #d1f4dc; color: #0f5323; } .v-denied { background: #dde4ee; color: #24364f; }
.v-leaked { background: #b3261e; color: #fff; } .v-wrongly-denied { background: #ffe3a3; color: #5c3c00; }
.v-not-tested { background: repeating-linear-gradient(45deg, #fafafa, #fafafa 4px, #eee 4px, #eee 8px); color: var(--muted); }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; }
.swatch { display: inline-block; padding: 0 .5rem; border-radius: 3px; font-weight: 600; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 3px; color: #fff; font-size: .8rem; font-weight: 700; text-transform: uppercase; }
.sev-critical { background: var(--critical); } .sev-high { background: var(--high); } .sev-medium { background: var(--medium); }
.sev-low { background: var(--low); } .sev-info { background: var(--info); }
.st-passed { color: #1a7f37; } .st-failed { color: var(--high); font-weight: 600; } .st-error { color: #6e40c9; font-weight: 600; } .st-skipped { color: var(--muted); } .st-inconclusive { color: #9a6700; font-weight: 600; }
article.finding { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
article.finding h3 { margin: 0 0 .5rem; font-size: 1.05rem; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: .5rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0 .75rem; }
.evidence { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 0 1rem; }
.filters label { margin-right: 1rem; } button.copy { font-size: .8rem; }
[hidden] { display: none !important; }
@media print { .filters, button.copy { display: none; } }
`

/**
 * Inline script: severity filters for the findings list and copy buttons for
 * curl lines. Defensive by design: it must log no console error in any browser,
 * including from file:// where the Clipboard API may be missing.
 */
export const SCRIPT = `
(function () {
  'use strict';
  var boxes = document.querySelectorAll('.filters input[type=checkbox]');
  function apply() {
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    document.querySelectorAll('article.finding').forEach(function (a) {
      a.hidden = on[a.getAttribute('data-severity')] === false;
    });
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  document.querySelectorAll('button.copy').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var pre = document.getElementById(btn.getAttribute('data-target') || '');
      var text = pre ? pre.textContent || '' : '';
      var done = function () { btn.textContent = 'copied'; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { btn.textContent = 'select and copy'; });
      } else { btn.textContent = 'select and copy'; }
    });
  });
})();
`
