// The gateway dashboard: health with the breakers, users, one user's orders and users with
// orders, all from this gateway (paths relative to the page's origin), auto-refreshed.
"use strict";

(() => {
  const TONES = { closed: "ok", healthy: "ok", connected: "ok", open: "bad", unhealthy: "bad",
    disconnected: "bad", degraded: "warn" };
  const tone = (value) => TONES[String(value).toLowerCase()] || "warn";

  function sourceLine(meta) {
    if (!meta) return dash.el("div", "meta", "");
    const fallback = meta.source === "fallback";
    return dash.el("div", "meta", null,
      "source ", dash.pill(meta.source, fallback ? "bad" : "ok"),
      ` · answered by ${meta.instance} at ${meta.timestamp}`);
  }

  function failure(id, error) {
    dash.replace(id, dash.el("div", "error", `Request failed: ${error.message}`));
  }

  const seconds = (ms) => (typeof ms === "number" ? `${(ms / 1000).toFixed(1)} s` : String(ms ?? "-"));
  const when = (t) => (typeof t === "number" ? new Date(t).toLocaleTimeString([], { hour12: false }) : String(t ?? "-"));

  function renderHealth(h) {
    const status = document.getElementById("gateway-status");
    status.textContent = h.status;
    status.className = `pill ${tone(h.status)}`;
    document.getElementById("gateway-instance").textContent = `${h.instance} · port ${h.port}`;
    const sd = h.serviceDiscovery || {};
    const rows = [
      dash.row(["gateway", dash.pill(h.status, tone(h.status))]),
      dash.row(["service discovery", dash.el("span", null, null,
        dash.pill(sd.status, tone(sd.status)), " ", dash.pill(sd.server, tone(sd.server)))]),
      dash.row(["checked at", h.timestamp]),
    ];
    if (sd.error) rows.push(dash.row(["discovery error", dash.el("span", "error", sd.error)]));
    dash.replace("health", dash.table(["", ""], rows));

    const breakers = Object.entries(h.breakers || {}).sort(([a], [b]) => a.localeCompare(b));
    dash.replace("breakers", breakers.length === 0 ? dash.el("div", "empty", "No breaker reported.")
      : dash.table(["breaker", "state", "generation", "retry after"], breakers.map(([name, b]) => {
        const tr = dash.row([dash.el("span", "mono", name), dash.pill(b.state, tone(b.state)),
          b.generation, b.retryAfterMs ? seconds(b.retryAfterMs) : "-"]);
        tr.dataset.breaker = name;
        return tr;
      })));

    const cache = Object.entries(h.cache || {}).sort(([a], [b]) => a.localeCompare(b));
    dash.replace("cache", cache.length === 0 ? dash.el("div", "empty", "Nothing cached yet.")
      : dash.table(["service", "instances", "cached at", "expires in", "valid"], cache.map(([name, c]) =>
        dash.row([dash.el("span", "mono", name), c.servicesCount, when(c.cachedAt),
          seconds(c.timeToExpiry), dash.pill(c.isValid ? "valid" : "stale", c.isValid ? "ok" : "warn")]))));
  }

  function renderUsers(body) {
    const rows = (body.users || []).map((u) => dash.row([u.id, u.name, u.email, u.age]));
    dash.replace("users", dash.table(["id", "name", "email", "age"], rows), sourceLine(body.meta));
  }

  function renderOrders(body) {
    const orders = body.orders || [];
    const list = orders.length === 0 ? dash.el("div", "empty", "This user has no orders.")
      : dash.table(["order", "products"], orders.map((o) => dash.row([o.id, (o.products || []).join(", ")])));
    dash.replace("orders", list, sourceLine(body.meta));
  }

  function renderUsersWithOrders(body) {
    const rows = (body.users || []).map((u) => {
      const orders = u.orders || [];
      const tr = dash.row([u.name, orders.length,
        orders.flatMap((o) => o.products || []).join(", ") || "-"]);
      tr.dataset.user = String(u.id);
      return tr;
    });
    const meta = body.meta || {};
    dash.replace("users-with-orders", dash.table(["user", "orders", "products"], rows),
      dash.el("div", "meta", `${meta.totalUsers ?? "?"} users, ${meta.totalOrders ?? "?"} orders`),
      sourceLine(meta));
  }

  function userId() {
    const value = Number(document.getElementById("user-id").value);
    return Number.isInteger(value) && value > 0 ? value : null;
  }

  const sections = {
    health: () => dash.getJson("health").then(renderHealth, (e) => {
      const status = document.getElementById("gateway-status");
      status.textContent = "unreachable";
      status.className = "pill bad";
      failure("health", e);
    }),
    users: () => dash.getJson("users").then(renderUsers, (e) => failure("users", e)),
    orders: () => {
      const id = userId();
      if (id === null) {
        failure("orders", new Error("the user id must be a positive whole number"));
        return Promise.resolve();
      }
      return dash.getJson(`orders/user/${id}`).then(renderOrders, (e) => failure("orders", e));
    },
    usersWithOrders: () => dash.getJson("users-with-orders")
      .then(renderUsersWithOrders, (e) => failure("users-with-orders", e)),
  };

  let timer = null;
  async function refreshAll() {
    await Promise.all(Object.values(sections).map((load) => load()));
    document.getElementById("updated").textContent = dash.clock();
  }

  function schedule() {
    const rate = Number(document.getElementById("rate").value);
    document.getElementById("rate-label").textContent = `${rate} s`;
    clearInterval(timer);
    if (document.getElementById("auto").checked) timer = setInterval(refreshAll, rate * 1000);
  }

  // The registry's dashboard: given as ?discovery=<url>, else port 3000 of this host.
  const given = new URLSearchParams(location.search).get("discovery");
  const link = document.getElementById("discovery-link");
  link.href = given && /^https?:\/\//.test(given) ? given : `${location.protocol}//${location.hostname}:3000/`;

  document.getElementById("refresh-all").addEventListener("click", refreshAll);
  document.getElementById("rate").addEventListener("input", schedule);
  document.getElementById("auto").addEventListener("change", schedule);
  document.getElementById("user-id").addEventListener("change", sections.orders);
  for (const button of document.querySelectorAll("[data-refresh]")) {
    button.addEventListener("click", () => sections[button.dataset.refresh]());
  }
  refreshAll();
  schedule();
})();
