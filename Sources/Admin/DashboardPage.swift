/// The dashboard at `/` on the admin listener: the points with their state and players, charts
/// of players and Mbit/s per point and per protocol over the last five minutes, the players with
/// a disconnect button, and the encoders of push points. The server writes the state of the moment into the page (`initial`),
/// which the script renders at once; then `/api/v1/events` (server-sent events) brings a new
/// state every second. Text from players (their User-Agent) goes in as text, never as markup.
enum DashboardPage {
    /// The page with `snapshot` (the events' JSON, `<` escaped so no player text ends the script).
    static func html(snapshot json: String) -> String {
        template.replacingOccurrences(of: "/*INITIAL*/null", with: json.replacingOccurrences(of: "<", with: "\\u003c"))
    }

    private static let template = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Asfcast</title>
    <style>
      body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
      h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
      #summary { color: #555; }
      table { border-collapse: collapse; min-width: 40em; }
      th, td { text-align: left; padding: .25em .8em .25em 0; border-bottom: 1px solid #ddd; }
      td.number, th.number { text-align: right; }
      .charts { display: flex; gap: 2em; flex-wrap: wrap; }
      canvas { border: 1px solid #ddd; }
      .legend span { margin-right: 1em; white-space: nowrap; }
      .legend i { display: inline-block; width: .8em; height: .8em; margin-right: .3em; }
      #state.stale { color: #b00; }
    </style>
    </head>
    <body>
    <h1>Asfcast <span id="version"></span></h1>
    <div id="summary"><span id="players">0</span> players, <span id="rate">0.00</span> Mbit/s, up <span id="uptime"></span>
      <span id="state"></span></div>
    <h2>Players and Mbit/s, last 5 minutes</h2>
    <div class="charts">
      <div><div>per point</div><canvas id="byPoint" width="520" height="200"></canvas><div class="legend" id="byPointLegend"></div></div>
      <div><div>per protocol</div><canvas id="byProtocol" width="520" height="200"></canvas><div class="legend" id="byProtocolLegend"></div></div>
    </div>
    <h2>Publishing points</h2>
    <table id="points"><thead><tr><th>Name</th><th>Path</th><th>Kind</th><th>State</th><th class="number">Players</th><th class="number">Mbit/s</th></tr></thead><tbody></tbody></table>
    <h2>Players</h2>
    <table id="sessions"><thead><tr><th>Id</th><th>Protocol</th><th>Point</th><th>Client</th><th>Player</th><th class="number">Connected</th><th class="number">kbit/s</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Encoders</h2>
    <table id="encoders"><thead><tr><th>Point</th><th>Push-id</th><th>State</th><th>Client</th><th>Encoder</th><th class="number">Since</th><th class="number">kbit/s in</th></tr></thead><tbody></tbody></table>
    <script>
    "use strict";
    const initial = /*INITIAL*/null;
    // RFC 6750 2.3: a token the page was opened with goes on to the API.
    const token = new URLSearchParams(location.search).get("access_token");
    const withToken = path => token ? path + "?access_token=" + encodeURIComponent(token) : path;
    const history = [];            // {time, byPoint: {name: [players, bps]}, byProtocol: {...}}
    const minutes = 5;
    const sent = new Map();        // session id → its [time, bytes] of the last 10 s, for its rate
    const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

    function cell(row, text, number) {
      const td = row.insertCell();
      td.textContent = text;
      if (number) td.className = "number";
      return td;
    }
    function duration(s) {
      s = Math.floor(s);
      return s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min" : s >= 60 ? Math.floor(s / 60) + " min " + s % 60 + " s" : s + " s";
    }

    // Each session's rate over the last 3 to 10 s (the server writes a second's packets at a
    // time), or before that its average over the time connected.
    function rates(state) {
      const now = Date.parse(state.time);
      for (const id of sent.keys()) if (!state.sessions.some(s => s.id === id)) sent.delete(id);
      return new Map(state.sessions.map(s => {
        const samples = sent.get(s.id) || [];
        samples.push([now, s.bytesSent]);
        while (samples.length > 1 && samples[0][0] < now - 10000) samples.shift();
        sent.set(s.id, samples);
        const [t, bytes] = samples[0], seconds = (now - t) / 1000;
        return [s.id, seconds >= 3 ? (s.bytesSent - bytes) * 8 / seconds : s.bitsPerSecond];
      }));
    }

    function render(state) {
      const rate = rates(state);
      document.getElementById("version").textContent = state.status.version;
      document.getElementById("players").textContent = state.status.players;
      document.getElementById("uptime").textContent = duration(state.status.uptimeSeconds);
      let total = 0;
      const byPoint = {}, byProtocol = {};
      for (const p of state.points) byPoint[p.name] = [0, 0];
      for (const s of state.sessions) {
        const bps = rate.get(s.id) || 0;
        total += bps;
        const protocol = s.protocol + "/" + s.transport;
        for (const [table, key] of [[byPoint, s.point], [byProtocol, protocol]]) {
          table[key] = table[key] || [0, 0];
          table[key][0] += 1;
          table[key][1] += bps;
        }
      }
      document.getElementById("rate").textContent = (total / 1e6).toFixed(2);

      const points = document.querySelector("#points tbody");
      points.replaceChildren();
      for (const p of state.points) {
        const row = points.insertRow();
        row.dataset.point = p.name;
        [p.name, p.path, p.kind, p.state].forEach(t => cell(row, t));
        cell(row, p.players, true);
        cell(row, ((byPoint[p.name] || [0, 0])[1] / 1e6).toFixed(2), true);
      }

      const sessions = document.querySelector("#sessions tbody");
      sessions.replaceChildren();
      for (const s of state.sessions) {
        const row = sessions.insertRow();
        row.dataset.session = s.id;
        row.dataset.protocol = s.protocol;
        [s.id, s.protocol + "/" + s.transport, s.point, s.client, s.player].forEach(t => cell(row, t));
        cell(row, duration(s.seconds), true);
        cell(row, ((rate.get(s.id) || 0) / 1000).toFixed(0), true).className = "number rate";
        const button = document.createElement("button");
        button.textContent = "Disconnect";
        button.onclick = () => fetch(withToken("api/v1/sessions/" + s.id), { method: "DELETE" });
        row.insertCell().append(button);
      }

      const encoders = document.querySelector("#encoders tbody");
      encoders.replaceChildren();
      for (const e of state.encoders) {
        const row = encoders.insertRow();
        row.dataset.encoder = e.pushId;
        [e.point, e.pushId, e.streaming ? "streaming" : "between connections", e.client, e.userAgent].forEach(t => cell(row, t));
        cell(row, duration((Date.parse(state.time) - Date.parse(e.since)) / 1000), true);
        cell(row, (e.bitsPerSecond / 1000).toFixed(0), true);
      }

      history.push({ time: Date.parse(state.time), byPoint, byProtocol });
      while (history.length && history[0].time < Date.parse(state.time) - minutes * 60000) history.shift();
      chart("byPoint", h => h.byPoint);
      chart("byProtocol", h => h.byProtocol);
    }

    // Players (solid, left scale) and Mbit/s (dashed, right scale) of each series.
    function chart(id, series) {
      const canvas = document.getElementById(id), g = canvas.getContext("2d");
      const w = canvas.width, h = canvas.height, pad = 30;
      g.clearRect(0, 0, w, h);
      const names = [...new Set(history.flatMap(e => Object.keys(series(e))))].sort();
      let maxPlayers = 1, maxRate = 0.1;
      for (const e of history) for (const [players, bps] of Object.values(series(e))) {
        maxPlayers = Math.max(maxPlayers, players); maxRate = Math.max(maxRate, bps / 1e6);
      }
      const end = history.length ? history[history.length - 1].time : 0, start = end - minutes * 60000;
      const x = t => pad + (t - start) / (end - start || 1) * (w - 2 * pad);
      g.fillStyle = "#555"; g.font = "11px sans-serif";
      g.fillText(maxPlayers + " players", 2, 12);
      g.fillText(maxRate.toFixed(2) + " Mbit/s", w - 80, 12);
      const legend = document.getElementById(id + "Legend");
      legend.replaceChildren();
      names.forEach((name, i) => {
        const color = colors[i % colors.length];
        for (const [index, scale, dash] of [[0, maxPlayers, []], [1, maxRate * 1e6, [4, 3]]]) {
          g.strokeStyle = color; g.setLineDash(dash); g.beginPath();
          history.forEach((e, j) => {
            const v = (series(e)[name] || [0, 0])[index];
            const y = h - pad + 10 - v / scale * (h - pad - 10);
            j ? g.lineTo(x(e.time), y) : g.moveTo(x(e.time), y);
          });
          g.stroke();
        }
        const item = document.createElement("span"), swatch = document.createElement("i");
        swatch.style.background = color;
        item.append(swatch, name);
        legend.append(item);
      });
      g.setLineDash([]);
    }

    if (initial) render(initial);
    const events = new EventSource(withToken("api/v1/events"));
    const stateLine = document.getElementById("state");
    events.onmessage = message => { stateLine.textContent = ""; stateLine.className = ""; render(JSON.parse(message.data)); };
    events.onerror = () => { stateLine.textContent = "(not connected: retrying)"; stateLine.className = "stale"; };
    </script>
    </body>
    </html>
    """#
}
