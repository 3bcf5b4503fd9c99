// The discovery dashboard: every service and instance of GET /services, with heartbeat ages
// that tick between refreshes.
"use strict";

(() => {
  let services = {};
  let timer = null;

  // Heartbeat times are on the registry's (Redis's) clock; a browser clock slightly behind it
  // must not show negative ages, hence the floor at 0 in dash.age.
  function beatCells(instance, now) {
    const age = now - instance.lastHeartbeat;
    const window = Number(instance.heartbeatInterval) * 1500;
    const bar = dash.el("div", "bar" + (age > window * 2 / 3 ? " warn" : ""));
    const fill = dash.el("div");
    fill.style.width = `${Math.min(100, Math.max(0, (age / window) * 100)).toFixed(0)}%`;
    bar.append(fill);
    return [dash.el("span", "age", dash.age(age) + " ago"), bar];
  }

  function instanceRow(instance, now) {
    const [age, bar] = beatCells(instance, now);
    const tr = dash.row([
      dash.el("span", "mono", instance.id),
      `${instance.ip}:${instance.port}`,
      `${instance.heartbeatInterval} s`,
      age,
      bar,
      dash.pill(instance.status || "alive", "ok"),
      dash.age(now - instance.registeredAt),
    ]);
    tr.dataset.instance = instance.id;
    tr.dataset.port = String(instance.port);
    return tr;
  }

  function serviceCard(name, instances, now) {
    const card = dash.el("section", "card");
    card.dataset.service = name;
    card.append(dash.el("h2", null, name, dash.pill(`${instances.length} alive`, "ok")));
    const sorted = [...instances].sort((a, b) => a.port - b.port || a.id.localeCompare(b.id));
    card.append(dash.table(
      ["instance", "address", "interval", "heartbeat", "", "status", "up for"],
      sorted.map((i) => instanceRow(i, now)),
    ));
    return card;
  }

  function render() {
    const now = Date.now();
    const names = Object.keys(services).sort();
    const all = names.flatMap((n) => services[n]);
    document.getElementById("service-count").textContent = String(names.length);
    document.getElementById("instance-count").textContent = String(all.length);
    const oldest = all.reduce((m, i) => Math.max(m, now - i.lastHeartbeat), -Infinity);
    document.getElementById("oldest-beat").textContent = all.length ? dash.age(oldest) : "-";
    if (names.length === 0) {
      dash.replace("services", dash.el("div", "empty", "No instance is registered."));
      return;
    }
    dash.replace("services", ...names.map((n) => serviceCard(n, services[n], now)));
  }

  async function refresh() {
    const connection = document.getElementById("connection");
    const error = document.getElementById("error");
    try {
      services = await dash.getJson("/services");
      connection.textContent = "live";
      connection.className = "pill ok";
      error.hidden = true;
      document.getElementById("services").classList.remove("stale");
      document.getElementById("updated").textContent = dash.clock();
      render();
    } catch (e) {
      connection.textContent = "unreachable";
      connection.className = "pill bad";
      error.textContent = `The registry did not answer: ${e.message}. Showing the last answer.`;
      error.hidden = false;
      document.getElementById("services").classList.add("stale");
    }
  }

  function schedule() {
    clearInterval(timer);
    if (document.getElementById("live").checked) {
      timer = setInterval(refresh, Number(document.getElementById("rate").value));
    }
  }

  document.getElementById("rate").addEventListener("change", schedule);
  document.getElementById("live").addEventListener("change", schedule);
  document.getElementById("refresh").addEventListener("click", refresh);
  // Ages move every second even when the registry is refreshed less often.
  setInterval(() => { if (Object.keys(services).length) render(); }, 1000);
  refresh();
  schedule();
})();
