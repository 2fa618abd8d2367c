"""The room server's three pages: plain HTML with a little JavaScript, nothing fetched from the internet.

The pages poll the JSON API every two seconds and draw with ``textContent`` only (attendees choose their
own names: nothing they send is ever parsed as HTML). Colours are Okabe-Ito's blue and orange, and every
cell also carries a symbol, so the grid reads without colour vision too.
"""

_STYLE = """
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
  .note { color: #555; margin-top: 0; }
  table { border-collapse: collapse; font-size: 1.05rem; }
  th, td { border: 1px solid #bbb; padding: 0.25rem 0.6rem; text-align: center; }
  th.name, td.name { text-align: left; }
  td.passed { background: #0072B2; color: white; }
  td.tried { background: #E69F00; color: black; }
  tr.counts th { background: #eee; }
  #updated { color: #777; font-size: 0.85rem; }
</style>
"""

INDEX_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workshop room</title>{_STYLE}</head>
<body>
<h1>Workshop room</h1>
<p class="note">Put this address on the screen. Attendees set <code>WORKSHOP_ROOM</code> to it (and their name in
<code>WORKSHOP_NAME</code>) to send their checker results; <code>WORKSHOP_MIRROR</code> to it to download the data
from this room.</p>
<ul>
  <li><a href="progress">Progress grid</a>: who passed which exercise, live</li>
  <li><a href="board">Competition board</a>: the room's ranking, live</li>
</ul>
</body></html>
"""

PROGRESS_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Room progress</title>{_STYLE}</head>
<body>
<h1>Room progress</h1>
<p class="note">✓ passed &nbsp; ✗ tried, not passed yet &nbsp; (blank: not tried). The bottom row counts passes.</p>
<table id="grid"><thead></thead><tbody></tbody><tfoot></tfoot></table>
<p id="updated">waiting for the first update…</p>
<script>
function cell(tag, text, cls) {{
  const element = document.createElement(tag);
  element.textContent = text;
  if (cls) element.className = cls;
  return element;
}}
function draw(room) {{
  const head = document.createElement("tr");
  head.appendChild(cell("th", "attendee", "name"));
  for (const exercise of room.exercises) head.appendChild(cell("th", exercise));
  const body = document.createDocumentFragment();
  for (const name of room.attendees) {{
    const row = document.createElement("tr");
    row.appendChild(cell("td", name, "name"));
    for (const exercise of room.exercises) {{
      const result = room.cells[name][exercise];
      if (!result) row.appendChild(cell("td", ""));
      else if (result.passed) row.appendChild(cell("td", "✓", "passed"));
      else row.appendChild(cell("td", "✗", "tried"));
    }}
    body.appendChild(row);
  }}
  const counts = document.createElement("tr");
  counts.className = "counts";
  counts.appendChild(cell("th", `passed (of ${{room.attendees.length}})`, "name"));
  for (const exercise of room.exercises) counts.appendChild(cell("th", String(room.passes[exercise])));
  const grid = document.getElementById("grid");
  grid.tHead.replaceChildren(head);
  grid.tBodies[0].replaceChildren(body);
  grid.tFoot.replaceChildren(counts);
  const count = room.attendees.length;
  document.getElementById("updated").textContent = (count === 0 ? "no attendees yet" :
    count === 1 ? "1 attendee" : `${{count}} attendees`) + `, updated ${{new Date().toLocaleTimeString()}}`;
}}
async function refresh() {{
  try {{
    const response = await fetch("api/progress", {{cache: "no-store"}});
    if (response.ok) draw(await response.json());
  }} catch (error) {{
    document.getElementById("updated").textContent = "the server does not answer: is it still running?";
  }}
}}
refresh();
setInterval(refresh, 2000);
</script>
</body></html>
"""

BOARD_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Competition board</title>{_STYLE}</head>
<body>
<h1>Competition board</h1>
<p class="note">Scored here, on held-out images whose labels never leave this server. Best submission per
attendee; macro-F1 ranks.</p>
<table id="board"><thead><tr><th>rank</th><th class="name">attendee</th><th>macro-F1</th><th>accuracy</th>
<th>submissions</th></tr></thead><tbody></tbody></table>
<p id="updated">waiting for the first update…</p>
<script>
function cell(text, cls) {{
  const element = document.createElement("td");
  element.textContent = text;
  if (cls) element.className = cls;
  return element;
}}
async function refresh() {{
  try {{
    const response = await fetch("api/board", {{cache: "no-store"}});
    if (!response.ok) return;
    const data = await response.json();
    const rows = document.createDocumentFragment();
    for (const entry of data.board) {{
      const row = document.createElement("tr");
      row.appendChild(cell(String(entry.rank)));
      row.appendChild(cell(entry.name, "name"));
      row.appendChild(cell(entry.macro_f1.toFixed(3)));
      row.appendChild(cell((100 * entry.accuracy).toFixed(1) + "%"));
      row.appendChild(cell(`${{entry.submissions}} of ${{data.limit}}`));
      rows.appendChild(row);
    }}
    document.querySelector("#board tbody").replaceChildren(rows);
    const count = data.board.length;
    document.getElementById("updated").textContent = (count === 0 ? "no entries yet" :
      count === 1 ? "1 entry" : `${{count}} entries`) + `, updated ${{new Date().toLocaleTimeString()}}`;
  }} catch (error) {{
    document.getElementById("updated").textContent = "the server does not answer: is it still running?";
  }}
}}
refresh();
setInterval(refresh, 2000);
</script>
</body></html>
"""
