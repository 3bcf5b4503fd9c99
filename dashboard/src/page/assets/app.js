// The fleet dashboard: every breaker from GET /api/breakers, live transitions from
// GET /api/events (Server-Sent Events), a breaker's history, and the overrides. Data from
// Redis only ever reaches the page through textContent, never as markup.
"use strict";

(() => {
  const TOKEN_KEY = "dashboard.admin-token";
  const REFRESH_MS = 5000;
  const MAX_EVENTS = 100;
  const ACTIONS = ["open", "close", "disable", "reset"];
  const breakers = new Map();
  let selected = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    node.append(...children);
    return node;
  }

  function cell(...children) {
    const td = document.createElement("td");
    for (const child of children) td.append(child instanceof Node ? child : String(child));
    return td;
  }

  // "850 ms", "4.2 s", "3 min 5 s", "23 h 59 min".
  function span(ms) {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  function clock(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
  }

  function badge(state, forced) {
    if (forced && forced !== "none") return el("span", "pill forced state", `forced ${forced}`);
    return el("span", `pill state ${state || ""}`, state || "unknown");
  }

  // The settings a replica published: {settings: {...}, replica, ...} or the settings alone.
  function settingsText(stored) {
    if (!stored) return "not published";
    const s = stored.settings || stored;
    const parts = [];
    const trip = {
      consecutive_failures: () => `${s.failures} failures in a row`,
      failure_count: () => `${s.failures} failures in the window`,
      failure_ratio: () => `failures >= ${Math.round(s.failure_ratio * 100)} % of >= ${s.min_requests} calls`,
      failure_ratio_above: () => `failures > ${Math.round(s.failure_ratio * 100)} % of >= ${s.min_requests} calls`,
    }[s.trip];
    if (trip) parts.push(`trip: ${trip()}`);
    parts.push(s.rolling_window ? `rolling ${s.rolling_window} window` : `${s.interval} window`);
    if (s.timeout) parts.push(`open ${s.timeout}`);
    if (s.max_requests) parts.push(`${s.max_requests} trial calls`);
    return parts.join(", ");
  }

  function actionButtons(name) {
    const box = el("div", "actions");
    for (const action of ACTIONS) {
      const button = el("button", null, action);
      button.type = "button";
      button.dataset.action = action;
      button.addEventListener("click", () => override(name, action));
      box.append(button);
    }
    return box;
  }

  function row(b) {
    const tr = document.createElement("tr");
    tr.dataset.breaker = b.name;
    if (b.name === selected) tr.classList.add("selected");
    const pick = el("button", null, b.name);
    pick.type = "button";
    pick.addEventListener("click", () => select(b.name));
    const open = b.state === "open" && b.open_until_ms ? el("div", "small", `trials after ${clock(b.open_until_ms)}`) : "";
    const counts = `${b.requests ?? 0} calls, ${b.failures ?? 0} failed, ${b.consecutive_failures ?? 0} in a row`;
    const trials = b.state === "half-open" ? el("div", "small", `${b.half_open_successes ?? 0} trial successes`) : "";
    const tds = [
      cell(el("span", "name", null, pick)),
      cell(badge(b.state, b.forced), open),
      cell(el("span", "mono generation", b.generation ?? "-")),
      cell(el("span", "counts", counts), trials),
      cell(el("span", "settings small", settingsText(b.settings))),
      cell(el("span", "ttl small", b.ttl_ms === null || b.ttl_ms === undefined ? "never (forced)" : span(b.ttl_ms))),
      cell(actionButtons(b.name)),
    ];
    tr.append(...tds);
    return tr;
  }

  // Generations only grow: an answer read before a transition the feed already showed must
  // not put the old state back.
  function newer(known, fresh) {
    return known && known.generation > fresh.generation ? known : fresh;
  }

  function render() {
    const names = [...breakers.keys()].sort();
    $("count").textContent = String(names.length);
    $("count-word").textContent = names.length === 1 ? "breaker" : "breakers";
    if (names.length === 0) {
      $("breaker-rows").replaceChildren(el("tr", null, null, Object.assign(el("td", "empty", "No breaker in Redis yet: they appear with their first call."), { colSpan: 7 })));
      return;
    }
    $("breaker-rows").replaceChildren(...names.map((n) => row(breakers.get(n))));
  }

  function replaceRow(name, flash) {
    const b = breakers.get(name);
    const old = document.querySelector(`tr[data-breaker="${CSS.escape(name)}"]`);
    if (!b || !old) return render();
    const fresh = row(b);
    if (flash) fresh.classList.add("flash");
    old.replaceWith(fresh);
  }

  function showError(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
    $("breakers").classList.toggle("stale", Boolean(text));
  }

  // What the last override did or why it was not made; apart from #error, which the
  // periodic refresh owns.
  function notice(text, tone = "ok") {
    $("notice").textContent = text;
    $("notice").className = tone === "ok" ? "notice" : "error";
    $("notice").hidden = !text;
  }

  function setFeed(text, tone) {
    $("feed").textContent = text;
    $("feed").className = `pill ${tone}`;
  }

  async function getJson(path, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 5000);
    try {
      const response = await fetch(path, { cache: "no-store", signal: controller.signal, ...options });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const reason = body && body.error ? body.error + (body.detail ? `: ${body.detail}` : "") : response.statusText;
        throw new Error(`${response.status} ${reason}`);
      }
      return body;
    } catch (e) {
      throw new Error(e.name === "AbortError" ? "no answer within 5 s" : e.message);
    } finally {
      clearTimeout(timer);
    }
  }

  async function refresh() {
    try {
      const body = await getJson("/api/breakers");
      const known = new Map(breakers);
      breakers.clear();
      for (const b of body.breakers) breakers.set(b.name, newer(known.get(b.name), b));
      render();
      $("updated").textContent = new Date().toLocaleTimeString([], { hour12: false });
      showError(body.truncated ? "Only the first breakers by name are listed (MAX_BREAKERS)." : "");
    } catch (e) {
      showError(`The breakers cannot be read: ${e.message}. Showing the last answer.`);
    }
  }

  async function refreshOne(name) {
    try {
      const fresh = await getJson(`/api/breakers/${encodeURIComponent(name)}`);
      breakers.set(name, newer(breakers.get(name), fresh));
      replaceRow(name, false);
    } catch (e) {
      // The next full refresh says what is wrong.
    }
  }

  async function select(name) {
    selected = name;
    for (const tr of document.querySelectorAll("#breaker-rows tr")) {
      tr.classList.toggle("selected", tr.dataset.breaker === name);
    }
    $("history-name").textContent = name;
    try {
      const body = await getJson(`/api/breakers/${encodeURIComponent(name)}/history?limit=50`);
      if (selected !== name) return;
      if (body.history.length === 0) {
        $("history").replaceChildren(el("p", "empty", "No transition recorded."));
        return;
      }
      const head = el("tr", null, null, ...["when", "transition", "generation", "reason", "by"].map((h) => el("th", null, h)));
      const rows = body.history.map((t) => {
        const tr = el("tr");
        tr.append(cell(clock(t.at_ms)), cell(badge(t.from), el("span", "arrow", " -> "), badge(t.to, t.forced)),
          cell(el("span", "mono", t.generation)), cell(t.reason), cell(el("span", "mono small", t.origin)));
        return tr;
      });
      const table = el("table", "history");
      table.append(el("thead", null, null, head), el("tbody", null, null, ...rows));
      $("history").replaceChildren(table);
    } catch (e) {
      $("history").replaceChildren(el("p", "error", `The history cannot be read: ${e.message}`));
    }
  }

  function onTransition(t) {
    const b = breakers.get(t.breaker);
    if (b) {
      // A transition clears the counts (see lua/lib.lua); the full row follows from the API.
      Object.assign(b, { state: t.to, forced: t.forced, generation: t.generation, requests: 0, failures: 0, consecutive_failures: 0, half_open_successes: 0 });
      replaceRow(t.breaker, true);
    }
    refreshOne(t.breaker);
    if (t.breaker === selected) select(selected);
    const list = $("events");
    list.querySelector(".empty")?.remove();
    const item = el("li", null, null, el("span", "mono small", clock(t.at_ms)), " ", el("strong", "mono", t.breaker), " ",
      badge(t.from), el("span", "arrow", "->"), badge(t.to, t.forced), " ", el("span", "small", `${t.reason} (generation ${t.generation}, by ${t.origin})`));
    item.dataset.breaker = t.breaker;
    item.dataset.id = t.id;
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  }

  function connect() {
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => setFeed("live", "ok"));
    source.addEventListener("transition", (e) => {
      try {
        onTransition(JSON.parse(e.data));
      } catch (err) {
        showError(`An event could not be read: ${err.message}`);
      }
    });
    source.addEventListener("status", (e) => {
      const up = JSON.parse(e.data).redis === "up";
      setFeed(up ? "live" : "redis down", up ? "ok" : "bad");
      if (up) refresh();
      else showError("Redis is unreachable: the page shows the last state it read.");
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        // The browser gives up on an answer that is not a stream (e.g. 503): start again.
        setFeed("disconnected", "bad");
        source.close();
        setTimeout(connect, 2000);
      } else {
        setFeed("reconnecting", "warn");
      }
    });
  }

  async function override(name, action) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      $("token-panel").hidden = false;
      $("token").focus();
      notice(`Enter the admin token to ${action} ${name}.`, "bad");
      return;
    }
    try {
      const body = await getJson(`/api/breakers/${encodeURIComponent(name)}/${action}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      });
      notice(`${action}: ${body.breaker} is now ${body.forced !== "none" ? "forced " + body.forced : body.to} (generation ${body.generation}).`);
      refreshOne(name);
    } catch (e) {
      notice(`${action} ${name} failed: ${e.message}`, "bad");
    }
  }

  function tokenState() {
    $("token-button").textContent = sessionStorage.getItem(TOKEN_KEY) ? "Admin token (set)" : "Admin token";
  }

  $("token-button").addEventListener("click", () => {
    $("token-panel").hidden = !$("token-panel").hidden;
  });
  $("token-save").addEventListener("click", () => {
    const value = $("token").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    $("token-panel").hidden = true;
    notice("");
    tokenState();
  });
  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("token").value = "";
    tokenState();
  });

  tokenState();
  refresh();
  connect();
  setInterval(refresh, REFRESH_MS);
})();
