// The console's page: a hash router, one render function per page, polling where it is live.
// No framework and nothing fetched from elsewhere: the console must work offline. Every
// value from the server goes into text nodes (h() below), never into HTML.

const view = document.getElementById("view");
const banner = document.getElementById("banner");
const live = document.getElementById("live");
let timers = [];
let generation = 0;

// -- helpers ------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, String(value));
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && (problem.detail || problem.title) ? (problem.detail || problem.title) : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(path, { method = "GET", body, token, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(path, init);
  const text = await answer.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

function problemView(error) {
  if (!(error instanceof ApiError)) return h("div", { class: "error" }, String(error.message || error));
  const fields = error.problem.errors || [];
  return h("div", { class: "error", role: "alert" },
    `${error.message} (${error.status})`,
    fields.length ? h("ul", {}, fields.map((f) => h("li", {}, `${f.field}: ${f.message}`))) : null);
}

function badge(text, kind) {
  return h("span", { class: `badge ${(kind || text || "").toString().toLowerCase().replace(/[\s_]+/g, "-")} ${(kind || text || "").toString().toLowerCase()}` }, text);
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

function ago(iso) {
  if (!iso) return "";
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function short(id) { return id ? String(id).slice(0, 8) : ""; }

function every(ms, fn) {
  const mine = generation;
  let running = false;
  const tick = async () => {
    if (mine !== generation || running) return;
    running = true;
    try {
      await fn();
      live.classList.remove("stale");
      hideBanner();
    } catch (error) {
      live.classList.add("stale");
      showBanner(error);
    } finally {
      running = false;
    }
  };
  tick();
  timers.push(setInterval(tick, ms));
}

function showBanner(error) {
  banner.hidden = false;
  banner.textContent = error instanceof ApiError ? `${error.message} (${error.status})` : String(error.message || error);
}
function hideBanner() { banner.hidden = true; }

function replace(target, ...children) {
  target.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function table(columns, rows, { onclick, rowClass } = {}) {
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.title)))),
    h("tbody", {}, rows.length === 0
      ? h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "nothing yet"))
      : rows.map((row) => h("tr", {
        class: [onclick ? "clickable" : "", rowClass ? rowClass(row) : ""].join(" ").trim() || null,
        onclick: onclick ? () => onclick(row) : null,
      }, columns.map((c) => h("td", {}, c.cell(row)))))));
}

function go(hash) { location.hash = hash; }

// -- router ---------------------------------------------------------------------------------

const pages = {
  overview: overviewPage,
  shop: shopPage,
  analytics: analyticsPage,
  sagas: sagasPage,
  events: eventsPage,
  "dead-letters": deadLettersPage,
  mailbox: mailboxPage,
};

function route() {
  generation += 1;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  hideBanner();
  const [name, ...rest] = (location.hash.replace(/^#\/?/, "") || "overview").split("/");
  const page = pages[name] || overviewPage;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.page === (pages[name] ? name : "overview"));
  }
  view.replaceChildren();
  view.dataset.page = pages[name] ? name : "overview";
  page(rest.map(decodeURIComponent));
}

// -- overview -------------------------------------------------------------------------------

function overviewPage() {
  const processes = h("div", { id: "processes" });
  const where = h("div", { class: "panel", id: "where" });
  view.append(h("h1", {}, "Overview"), processes, h("h2", {}, "Where everything is"), where);
  every(2000, async () => {
    const data = await api("/api/platform");
    replace(processes, table([
      { title: "Process", cell: (p) => h("strong", {}, p.name) },
      { title: "Kind", cell: (p) => p.kind },
      { title: "Health", cell: (p) => [badge(p.health), p.detail ? h("div", { class: "muted mono" }, typeof p.detail === "string" ? p.detail : JSON.stringify(p.detail)) : null] },
      { title: "PID", cell: (p) => p.pid ?? "—" },
      { title: "Restarts", cell: (p) => p.restarts },
      { title: "URL", cell: (p) => p.address && p.address.startsWith("http") ? h("a", { href: p.address, target: "_blank" }, p.address) : (p.address || "—") },
      { title: "Links", cell: (p) => Object.entries(p.links).map(([name, url]) => [h("a", { href: url, target: "_blank" }, name), " "]) },
    ], data.processes, { rowClass: (p) => `process-${p.health}` }));
    const databases = Object.entries(data.databases || {});
    replace(where,
      h("div", {}, "Kafka: ", h("code", {}, data.kafka), data.topic_prefix ? [" · topic prefix ", h("code", {}, data.topic_prefix)] : null),
      h("div", {}, "Registry: ", h("a", { href: `${data.registry}/subjects`, target: "_blank" }, data.registry)),
      h("div", {}, "SMTP: ", h("code", {}, data.smtp || "—")),
      databases.length ? h("div", {}, "Databases:", h("ul", {}, databases.map(([name, url]) => h("li", {}, h("code", {}, `${name}: ${url}`))))) : null,
      h("div", {}, "Admin: ", h("code", {}, data.admin)),
      h("div", {}, "This console: ", h("a", { href: "/asyncapi.json", target: "_blank" }, "AsyncAPI document"), " · ", h("a", { href: "/api/docs", target: "_blank" }, "its API")));
  });
}

// -- shop (a customer's view) -------------------------------------------------------------------

const session = {
  get token() { return localStorage.getItem("evp.shop.token"); },
  get email() { return localStorage.getItem("evp.shop.email"); },
  set(token, email) { localStorage.setItem("evp.shop.token", token); localStorage.setItem("evp.shop.email", email); },
  clear() { localStorage.removeItem("evp.shop.token"); localStorage.removeItem("evp.shop.email"); },
};
const cart = new Map();
const TERMINAL = new Set(["CONFIRMED", "CANCELLED"]);

function shopApi(service, path, options = {}) {
  return api(`/api/shop/${service}${path}`, { token: session.token, ...options });
}

function shopPage() {
  view.append(h("h1", {}, "Shop"));
  if (!session.token) {
    view.append(accountForms());
  } else {
    view.append(h("p", {}, "Signed in as ", h("strong", { id: "signed-in" }, session.email), " ",
      h("button", { class: "secondary", onclick: () => { session.clear(); route(); } }, "Sign out")));
  }
  const products = h("div", { class: "grid", id: "products" });
  const side = h("div", {});
  view.append(h("div", { class: "cols" },
    h("div", {}, h("h2", {}, "Products"), products),
    side));
  const cartPanel = h("div", { class: "panel", id: "cart" });
  const tracked = h("div", { class: "panel", id: "tracked", hidden: true });
  const orders = h("div", { id: "orders" });
  const notes = h("div", { id: "notifications" });
  side.append(h("h2", {}, "Cart"), cartPanel, tracked);
  if (session.token) view.append(h("h2", {}, "Your orders"), orders, h("h2", {}, "Your notifications"), notes);
  renderCart(cartPanel, tracked);
  every(3000, async () => {
    const page = await shopApi("inventory", "/products?limit=100");
    replace(products, page.items.map((p) => h("div", { class: "panel product", dataset: { sku: p.sku } },
      h("strong", {}, p.name),
      h("span", { class: "muted mono" }, p.sku),
      h("span", { class: "price" }, `${p.price} ${p.currency}`),
      h("span", { class: p.available > 0 ? "" : "error" }, `${p.available} available`),
      h("form", { class: "inline", onsubmit: (event) => {
        event.preventDefault();
        const quantity = Number(event.target.elements.quantity.value);
        cart.set(p.sku, { ...p, quantity: (cart.get(p.sku)?.quantity || 0) + quantity });
        renderCart(cartPanel, tracked);
      } },
      h("input", { type: "number", name: "quantity", min: 1, max: 1000, value: 1, "aria-label": `quantity of ${p.sku}` }),
      h("button", { type: "submit", class: "add-to-cart" }, "Add to cart")))));
  });
  if (session.token) {
    every(1500, async () => {
      try {
        const mine = await shopApi("orders", "/orders?limit=20");
        replace(orders, table([
          { title: "Order", cell: (o) => h("code", {}, short(o.order_id)) },
          { title: "Status", cell: (o) => badge(o.status) },
          { title: "Total", cell: (o) => `${o.total} ${o.currency}` },
          { title: "Placed", cell: (o) => when(o.placed_at) },
          { title: "", cell: (o) => o.status === "PENDING" ? h("button", { class: "secondary", onclick: (e) => { e.stopPropagation(); cancelOrder(o.order_id); } }, "Cancel") : null },
        ], mine.items, { onclick: (o) => { trackOrder(o.order_id, tracked); } }));
        const mail = await shopApi("notifications", "/notifications?limit=10");
        replace(notes, table([
          { title: "Subject", cell: (n) => n.subject },
          { title: "Status", cell: (n) => badge(n.status) },
          { title: "When", cell: (n) => when(n.created_at) },
        ], mail.items));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) { session.clear(); route(); return; }
        throw error;
      }
    });
    const current = sessionStorage.getItem("evp.shop.tracked");
    if (current) trackOrder(current, tracked);
  }
}

function accountForms() {
  const message = h("div", { id: "account-message" });
  const login = async (email, password) => {
    const token = await api("/api/shop/users/auth/token", { method: "POST", body: { email, password } });
    session.set(token.access_token, email);
    route();
  };
  const register = h("form", { class: "inline", id: "register", onsubmit: async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    try {
      await api("/api/shop/users/users", { method: "POST", body: { name: f.name.value, email: f.email.value, password: f.password.value } });
      await login(f.email.value, f.password.value);
    } catch (error) { replace(message, problemView(error)); }
  } },
  h("label", {}, "Name", h("input", { name: "name", required: true, autocomplete: "name" })),
  h("label", {}, "Email", h("input", { name: "email", type: "email", required: true, autocomplete: "email" })),
  h("label", {}, "Password", h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" })),
  h("button", { type: "submit" }, "Register"));
  const signIn = h("form", { class: "inline", id: "login", onsubmit: async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    try { await login(f.email.value, f.password.value); } catch (error) { replace(message, problemView(error)); }
  } },
  h("label", {}, "Email", h("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
  h("label", {}, "Password", h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
  h("button", { type: "submit" }, "Log in"));
  return h("div", { class: "panel" },
    h("h3", {}, "New here? Register"), register,
    h("h3", {}, "Or log in"), signIn, message);
}

function renderCart(panel, tracked) {
  const lines = [...cart.values()];
  const message = h("div", { id: "order-message" });
  if (lines.length === 0) {
    replace(panel, h("p", { class: "muted" }, "Your cart is empty."));
    return;
  }
  const currency = lines[0].currency;
  const total = lines.reduce((sum, l) => sum + Number(l.price) * l.quantity, 0);
  replace(panel,
    h("ul", { class: "list" }, lines.map((l) => h("li", {}, `${l.quantity} × ${l.name} `,
      h("span", { class: "muted" }, `(${l.price} ${l.currency})`), " ",
      h("a", { href: "#/shop", onclick: (e) => { e.preventDefault(); cart.delete(l.sku); renderCart(panel, tracked); } }, "remove")))),
    h("p", {}, h("strong", {}, `Total ${total.toFixed(2)} ${currency}`)),
    h("form", { class: "inline", id: "checkout", onsubmit: async (event) => {
      event.preventDefault();
      if (!session.token) { replace(message, h("div", { class: "error" }, "Register or log in to order.")); return; }
      const button = event.target.querySelector("button");
      button.disabled = true;
      try {
        const placed = await shopApi("orders", "/orders", {
          method: "POST",
          headers: { "Idempotency-Key": crypto.randomUUID() },
          body: { lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity })), payment: { token: event.target.elements.token.value } },
        });
        cart.clear();
        renderCart(panel, tracked);
        trackOrder(placed.order_id, tracked);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) { session.clear(); route(); return; }
        replace(message, problemView(error));
        button.disabled = false;
      }
    } },
    h("label", {}, "Pay with", h("select", { name: "token" },
      h("option", { value: "tok_ok" }, "a card that pays"),
      h("option", { value: "tok_declined" }, "a card that is declined"),
      h("option", { value: "tok_slow" }, "a slow payment provider"))),
    h("button", { type: "submit", id: "place-order" }, "Place order")),
    message);
}

async function cancelOrder(orderId) {
  try {
    await shopApi("orders", `/orders/${orderId}/cancel`, { method: "POST" });
  } catch (error) { showBanner(error); }
}

function trackOrder(orderId, panel) {
  sessionStorage.setItem("evp.shop.tracked", orderId);
  panel.hidden = false;
  const mine = generation;
  const status = h("span", { id: "order-status", dataset: { orderId, status: "PENDING" } }, badge("PENDING"));
  const steps = h("ol", { class: "timeline", id: "order-timeline" });
  const reason = h("div", { id: "order-reason" });
  replace(panel, h("h3", {}, "Order ", h("code", { id: "order-id" }, short(orderId))),
    h("div", { class: "order-progress" }, "Status: ", status), reason, steps);
  const poll = async () => {
    if (mine !== generation || sessionStorage.getItem("evp.shop.tracked") !== orderId) return true;
    const order = await shopApi("orders", `/orders/${orderId}`);
    status.dataset.status = order.status;
    replace(status, badge(order.status));
    replace(reason, order.cancellation_reason ? h("span", { class: "muted" }, `Reason: ${order.cancellation_reason}`) : null);
    replace(steps, order.timeline.map((e) => h("li", {}, h("span", { class: "muted" }, when(e.at)), " ", e.event_type, " ", h("span", { class: "muted" }, `(${e.source})`))));
    return TERMINAL.has(order.status);
  };
  const loop = async () => {
    let done = false;
    try { done = await poll(); } catch (error) { showBanner(error); }
    if (!done && mine === generation) setTimeout(loop, 700);
  };
  loop();
}

// -- analytics ------------------------------------------------------------------------------------

const OUTCOMES = [["OrderPlaced", "#1d4ed8", "placed"], ["OrderConfirmed", "#15803d", "confirmed"], ["OrderCancelled", "#b91c1c", "cancelled"]];

function analyticsPage() {
  const figures = h("div", { class: "grid", id: "figures" });
  const perMinute = h("div", { class: "panel", id: "orders-per-minute" });
  const latency = h("div", { class: "panel", id: "saga-latency" });
  const reasons = h("div", { class: "panel", id: "cancellations" });
  view.append(h("h1", {}, "Analytics"), figures,
    h("h2", {}, "Orders per minute, by outcome"), perMinute,
    h("div", { class: "cols" },
      h("div", {}, h("h2", {}, "Saga latency (placed to terminal)"), latency),
      h("div", {}, h("h2", {}, "Cancellations by reason"), reasons)));
  every(3000, async () => {
    const data = await api("/api/analytics");
    const orders = data.orders;
    const revenue = Object.entries(data.revenue);
    replace(figures,
      figure("Orders placed", orders.placed),
      figure("Confirmed", orders.confirmed),
      figure("Cancelled", orders.cancelled),
      figure("Conversion", data.conversion === null ? "—" : `${(Number(data.conversion) * 100).toFixed(1)} %`),
      figure("Revenue", revenue.length ? revenue.map(([c, a]) => `${a} ${c}`).join(" · ") : "0.00"));
    replace(perMinute, minuteChart(data.events_per_minute));
    const d = data.saga_duration_seconds;
    replace(latency, barChart([["p50", d.p50], ["p95", d.p95], ["p99", d.p99]].map(([k, v]) => [k, v ?? 0]), (v) => `${v.toFixed(2)} s`),
      h("p", { class: "muted" }, `${d.count} saga(s) ended`));
    const byReason = Object.entries(orders.cancelled_by_reason).sort((a, b) => b[1] - a[1]);
    replace(reasons, byReason.length ? barChart(byReason, (v) => String(v)) : h("p", { class: "muted" }, "no cancellations yet"));
  });
}

function figure(title, value) {
  return h("div", { class: "panel" }, h("div", { class: "muted" }, title), h("div", { class: "figure" }, value));
}

function minuteChart(rows) {
  const byMinute = new Map();
  for (const row of rows) {
    const outcome = OUTCOMES.find(([name]) => row.event_type === name || row.event_type.endsWith(`.${name}`));
    if (!outcome) continue;
    const counts = byMinute.get(row.minute) || {};
    counts[outcome[0]] = (counts[outcome[0]] || 0) + row.count;
    byMinute.set(row.minute, counts);
  }
  const minutes = [...byMinute.keys()].sort().slice(-30);
  if (minutes.length === 0) return h("p", { class: "muted" }, "no orders yet");
  const width = 900; const height = 220; const left = 36; const bottom = 24;
  const max = Math.max(1, ...minutes.flatMap((m) => OUTCOMES.map(([name]) => byMinute.get(m)[name] || 0)));
  const slot = (width - left) / minutes.length;
  const bar = Math.max(2, slot / (OUTCOMES.length + 1));
  const y = (v) => (height - bottom) - (v / max) * (height - bottom - 10);
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "orders per minute by outcome" },
    s("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#d8dde3" }),
    s("text", { x: 2, y: 14 }, String(max)),
    minutes.map((minute, i) => [
      OUTCOMES.map(([name, colour], j) => {
        const value = byMinute.get(minute)[name] || 0;
        return s("rect", { x: left + i * slot + j * bar + 2, y: y(value), width: bar - 1, height: (height - bottom) - y(value), fill: colour },
          s("title", {}, `${when(minute)} ${name}: ${value}`));
      }),
      i % Math.ceil(minutes.length / 10) === 0 ? s("text", { x: left + i * slot, y: height - 6 }, new Date(minute).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })) : null,
    ].filter(Boolean)));
  return [svg, h("div", { class: "legend" }, OUTCOMES.map(([, colour, label]) => h("span", {}, h("i", { style: `background:${colour}` }), label)))];
}

function barChart(pairs, format) {
  const width = 420; const row = 26; const label = 150;
  const max = Math.max(1e-9, ...pairs.map(([, v]) => v));
  return s("svg", { class: "chart bars", viewBox: `0 0 ${width} ${pairs.length * row + 6}`, role: "img" },
    pairs.map(([name, value], i) => [
      s("text", { x: 0, y: i * row + 17 }, name),
      s("rect", { x: label, y: i * row + 4, width: Math.max(1, ((width - label - 70) * value) / max), height: row - 8, fill: "#1d4ed8" }),
      s("text", { x: label + Math.max(1, ((width - label - 70) * value) / max) + 6, y: i * row + 17 }, format(value)),
    ]));
}

// -- sagas -------------------------------------------------------------------------------------------

function sagasPage([orderId]) {
  if (orderId) { sagaPage(orderId); return; }
  const params = new URLSearchParams(sessionStorage.getItem("evp.sagas.filter") || "");
  const results = h("div", { id: "sagas" });
  const form = h("form", { class: "inline", id: "saga-search", onsubmit: (event) => {
    event.preventDefault();
    const f = event.target.elements;
    const next = new URLSearchParams();
    if (f.order_id.value.trim()) next.set("order_id", f.order_id.value.trim());
    if (f.state.value) next.set("state", f.state.value);
    sessionStorage.setItem("evp.sagas.filter", next.toString());
    route();
  } },
  h("label", {}, "Order id starts with", h("input", { name: "order_id", value: params.get("order_id") || "", placeholder: "e.g. 3f2a" })),
  h("label", {}, "State", h("select", { name: "state" }, ["", "running", "stuck", "done"].map((v) => h("option", { value: v, selected: params.get("state") === v }, v || "any")))),
  h("button", { type: "submit" }, "Search"));
  view.append(h("h1", {}, "Sagas"), h("div", { class: "panel" }, form), results);
  every(2500, async () => {
    const sagas = await api(`/api/sagas?${params.toString()}`);
    sagas.reverse(); // newest first
    replace(results, h("p", { class: "muted" }, `${sagas.length} saga(s)`), table([
      { title: "Order", cell: (x) => h("a", { href: `#/sagas/${x.order_id}` }, h("code", {}, x.order_id)) },
      { title: "State", cell: (x) => badge(x.state) },
      { title: "Step", cell: (x) => x.step || "—" },
      { title: "Started", cell: (x) => `${when(x.started_at)} (${ago(x.started_at)})` },
      { title: "Step since", cell: (x) => when(x.step_since) },
      { title: "Deadline", cell: (x) => when(x.due_at) },
    ], sagas, { onclick: (x) => go(`#/sagas/${x.order_id}`) }));
  });
}

function sagaPage(orderId) {
  const head = h("div", { id: "saga-head" });
  const steps = h("div", { class: "steps", id: "saga-steps" });
  const events = h("div", { id: "saga-timeline" });
  const message = h("div", {});
  view.append(h("p", {}, h("a", { href: "#/sagas" }, "← all sagas")),
    h("h1", {}, "Saga of order ", h("code", {}, orderId)), head, message,
    h("h2", {}, "Steps"), steps, h("h2", {}, "Timeline"), events);
  const open = new Set();
  let highlighted = null;
  let last = null;
  const rerender = () => last && render(last);
  every(2000, async () => {
    last = await api(`/api/sagas/${orderId}`);
    render(last);
  });
  function render(saga) {
    const running = saga.step !== null && saga.step !== undefined;
    replace(head, h("p", {}, "Order status ", badge(saga.status), running ? [" · running step ", h("strong", {}, saga.step)] : " · ended",
      running ? [" ", h("button", { id: "retry", onclick: async () => {
        try {
          const done = await api(`/api/sagas/${orderId}/retry`, { method: "POST" });
          replace(message, h("p", { class: "panel" }, `Published ${done.event_type} again (event ${short(done.event_id)}) for step ${done.step}.`));
        } catch (error) { replace(message, problemView(error)); }
      } }, "Retry the running step")] : null));
    replace(steps, saga.steps.map((step, i) => [
      i ? h("span", { class: "arrow" }, "→") : null,
      h("div", { class: `step ${step.state}`, dataset: { step: step.name, state: step.state } },
        h("div", { class: "name" }, step.name, " ", badge(step.state)),
        h("div", { class: "muted" }, "command ", h("code", {}, step.started_by)),
        h("div", { class: "muted" }, "waits for ", step.waits_for.map((w) => h("code", {}, w, " "))),
        step.compensation ? h("div", { class: "muted" }, "undone by ", h("code", {}, step.compensation)) : null,
        step.started_at ? h("div", { class: "muted" }, `${when(step.started_at)} → ${when(step.ended_at) || "…"}`) : null,
        step.due_at ? h("div", { class: "muted" }, `deadline ${when(step.due_at)}`) : null),
    ]));
    const byId = new Map(saga.timeline.map((e) => [e.event_id, e]));
    replace(events, h("table", { class: "saga-events" },
      h("thead", {}, h("tr", {}, ["At", "Event", "Step", "From", "Id", "Caused by", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, saga.timeline.map((e) => {
        const cause = e.causation_id ? byId.get(e.causation_id) : null;
        const key = e.event_id || `${e.at}-${e.event_type}`;
        return [
          h("tr", { class: highlighted === e.event_id ? "highlight" : null, dataset: { eventId: e.event_id || "" } },
            h("td", {}, when(e.at)),
            h("td", {}, h("strong", {}, e.event_type)),
            h("td", {}, e.step || ""),
            h("td", {}, e.source),
            h("td", {}, h("code", {}, short(e.event_id))),
            h("td", {}, e.causation_id
              ? h("a", { href: `#/sagas/${orderId}`, onclick: (ev) => { ev.preventDefault(); highlighted = e.causation_id; rerender(); } },
                cause ? `${cause.event_type} ` : "", h("code", {}, short(e.causation_id)))
              : h("span", { class: "muted" }, "a request")),
            h("td", {}, h("button", { class: "secondary", onclick: () => { if (open.has(key)) open.delete(key); else open.add(key); rerender(); } }, open.has(key) ? "hide" : "show"))),
          open.has(key) ? h("tr", {}, h("td", { colspan: 7 }, h("pre", {}, JSON.stringify(e.data ?? {}, null, 2)))) : null,
        ];
      }))));
  }
}

// -- event catalogue ---------------------------------------------------------------------------------

let catalogueCache = null;

function eventsPage([name]) {
  const list = h("div", { id: "event-list" });
  const detail = h("div", { id: "event-detail" });
  const filter = h("input", { type: "search", placeholder: "filter events", id: "event-filter", value: sessionStorage.getItem("evp.events.filter") || "" });
  view.append(h("h1", {}, "Event catalogue ", h("a", { href: "/asyncapi.json", target: "_blank", class: "muted", style: "font-size:.9rem" }, "AsyncAPI 3 document")),
    h("div", { class: "cols", style: "grid-template-columns: 1fr 3fr" }, h("div", {}, filter, list), detail));
  const render = (catalogue) => {
    const text = filter.value.toLowerCase();
    sessionStorage.setItem("evp.events.filter", filter.value);
    replace(list, catalogue.topics.map((topic) => {
      const events = topic.events.filter((e) => e.toLowerCase().includes(text));
      if (events.length === 0) return null;
      return h("div", { class: "panel" }, h("h3", {}, topic.name), topic.doc ? h("div", { class: "muted" }, topic.doc) : null,
        h("ul", { class: "list" }, events.map((e) => {
          const found = catalogue.events.find((x) => x.full_name === e || x.name === e);
          const id = found ? found.full_name : e;
          return h("li", { class: id === name ? "active" : null }, h("a", { href: `#/events/${encodeURIComponent(id)}` }, found ? found.name : e));
        })));
    }));
    const chosen = catalogue.events.find((e) => e.full_name === name) || (name ? null : catalogue.events[0]);
    replace(detail, chosen ? eventDetail(chosen) : h("p", { class: "muted" }, name ? `no event ${name}` : "no events"));
  };
  filter.addEventListener("input", () => catalogueCache && render(catalogueCache));
  (async () => {
    try {
      catalogueCache = await api("/api/catalogue");
      render(catalogueCache);
    } catch (error) { showBanner(error); }
  })();
}

function eventDetail(event) {
  const versions = event.versions;
  let chosen = versions.length - 1;
  const body = h("div", {});
  const tabs = h("div", { class: "tabs" });
  const show = () => {
    replace(tabs, versions.map((v, i) => h("button", { class: i === chosen ? "active" : null, onclick: () => { chosen = i; show(); } }, `v${v.version}`)));
    const v = versions[chosen];
    replace(body,
      v.registered === false ? h("p", { class: "error" }, "not registered in the registry") : null,
      table([
        { title: "Field", cell: (f) => h("code", {}, f.name) },
        { title: "Type", cell: (f) => h("code", {}, f.type) },
        { title: "Default", cell: (f) => ("default" in f ? h("code", {}, JSON.stringify(f.default)) : "") },
        { title: "About", cell: (f) => f.doc || "" },
      ], v.fields || []),
      v.diff ? [h("h3", {}, `Changes from v${versions[chosen - 1]?.version ?? "?"}`), diffView(v.diff)] : null,
      h("details", {}, h("summary", {}, "Schema"), h("pre", {}, JSON.stringify(v.schema, null, 2))));
  };
  show();
  const roles = (items, format) => (items.length ? h("ul", {}, items.map((x) => h("li", {}, format(x)))) : h("span", { class: "muted" }, "none"));
  return h("div", { class: "panel", dataset: { event: event.full_name } },
    h("h2", {}, event.name, " ", h("span", { class: "muted mono" }, event.full_name)),
    event.doc ? h("p", {}, event.doc) : null,
    h("table", {}, h("tbody", {},
      h("tr", {}, h("th", {}, "Topic"), h("td", {}, h("code", {}, event.topic))),
      h("tr", {}, h("th", {}, "Subject"), h("td", {}, h("code", {}, event.subject))),
      h("tr", {}, h("th", {}, "Key"), h("td", {}, h("code", {}, event.key))),
      h("tr", {}, h("th", {}, "Compatibility"), h("td", {}, event.compatibility)),
      h("tr", {}, h("th", {}, "Produced by"), h("td", {}, roles(event.producers, (p) => (typeof p === "string" ? p : p.service)))),
      h("tr", {}, h("th", {}, "Consumed by"), h("td", {}, roles(event.consumers, (c) => `${c.service} (group ${c.group}${c.handler ? `, ${c.handler}` : ""}${c.projection ? `, projection ${c.projection}` : ""})`))),
      h("tr", {}, h("th", {}, "Saga steps"), h("td", {}, roles(event.saga_steps, (x) => `${x.saga}: ${x.step ? `${x.step} ` : ""}(${x.role})`))))),
    h("h3", {}, "Versions"), tabs, body);
}

function diffView(diff) {
  const lines = (diff.text || "").split("\n");
  return h("div", { class: "diff" },
    h("ul", {},
      (diff.added || []).map((f) => h("li", { class: "add" }, "added ", h("code", {}, typeof f === "string" ? f : f.name || JSON.stringify(f)))),
      (diff.removed || []).map((f) => h("li", { class: "del" }, "removed ", h("code", {}, typeof f === "string" ? f : f.name || JSON.stringify(f)))),
      (diff.changed || []).map((c) => h("li", {}, "changed ", h("code", {}, c.field), `: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`))),
    diff.text ? h("pre", {}, lines.map((l) => h("div", { class: l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : l.startsWith("@@") ? "hunk" : "" }, l))) : null);
}

// -- dead letters ---------------------------------------------------------------------------------------

function deadLettersPage([topic, partition, offset]) {
  if (topic && partition !== undefined && offset !== undefined) { deadLetterPage(topic, partition, offset); return; }
  if (topic) { topicLettersPage(topic); return; }
  const topics = h("div", { id: "dead-letter-topics" });
  view.append(h("h1", {}, "Dead letters"), topics);
  every(4000, async () => {
    const rows = await api("/api/dead-letters");
    replace(topics, table([
      { title: "Topic", cell: (r) => h("a", { href: `#/dead-letters/${encodeURIComponent(r.topic)}` }, r.topic) },
      { title: "Dead-letter topic", cell: (r) => h("code", {}, r.dead_letter_topic) },
      { title: "Letters", cell: (r) => r.count },
      { title: "Not replayed", cell: (r) => (r.pending ? badge(String(r.pending), "warn") : "0") },
    ], rows, { onclick: (r) => go(`#/dead-letters/${encodeURIComponent(r.topic)}`) }));
  });
}

function topicLettersPage(topic) {
  const letters = h("div", { id: "dead-letters" });
  const message = h("div", { id: "replay-message" });
  const selected = new Set();
  const replay = async (body) => {
    try {
      const done = await api(`/api/dead-letters/${encodeURIComponent(topic)}/replay`, { method: "POST", body });
      replace(message, h("div", { class: "panel" }, `${done.replayed.length} replayed, ${done.skipped.length} skipped`,
        done.skipped.length ? h("ul", {}, done.skipped.map((x) => h("li", {}, `${x.partition}@${x.offset}: ${x.why}`))) : null));
      selected.clear();
    } catch (error) { replace(message, problemView(error)); }
  };
  view.append(h("p", {}, h("a", { href: "#/dead-letters" }, "← all topics")), h("h1", {}, "Dead letters of ", h("code", {}, topic)),
    h("p", {}, h("button", { id: "replay-selected", onclick: () => replay({ letters: [...selected].map((k) => { const [p, o] = k.split("@"); return { partition: Number(p), offset: Number(o) }; }) }) }, "Replay selected"), " ",
      h("button", { class: "secondary", id: "replay-all", onclick: () => replay({ all: true }) }, "Replay every letter not yet replayed")),
    message, letters);
  every(4000, async () => {
    const rows = await api(`/api/dead-letters/${encodeURIComponent(topic)}`);
    replace(letters, table([
      { title: "", cell: (r) => h("input", { type: "checkbox", checked: selected.has(`${r.partition}@${r.offset}`), disabled: r.replayed, onclick: (e) => { e.stopPropagation(); const k = `${r.partition}@${r.offset}`; if (e.target.checked) selected.add(k); else selected.delete(k); } }) },
      { title: "Position", cell: (r) => h("code", {}, `${r.partition}@${r.offset}`) },
      { title: "Reason", cell: (r) => badge(r.reason, "bad") },
      { title: "Error", cell: (r) => [h("strong", {}, r.error_type), " ", r.error_message] },
      { title: "From", cell: (r) => h("code", {}, r.original) },
      { title: "Group", cell: (r) => r.group },
      { title: "Attempts", cell: (r) => r.attempts },
      { title: "Replayed", cell: (r) => (r.replayed ? badge("replayed", "ok") : badge("pending")) },
    ], rows, { onclick: (r) => go(`#/dead-letters/${encodeURIComponent(topic)}/${r.partition}/${r.offset}`) }));
  });
}

function deadLetterPage(topic, partition, offset) {
  const body = h("div", { id: "dead-letter" });
  view.append(h("p", {}, h("a", { href: `#/dead-letters/${encodeURIComponent(topic)}` }, `← dead letters of ${topic}`)), body);
  (async () => {
    try {
      const letter = await api(`/api/dead-letters/${encodeURIComponent(topic)}/${partition}/${offset}`);
      const message = h("div", {});
      replace(body,
        h("h1", {}, "Dead letter ", h("code", {}, `${letter.topic}[${letter.partition}]@${letter.offset}`)),
        h("div", { class: "panel" },
          h("p", {}, "Reason: ", badge(letter.reason, "bad"), " · ", h("strong", {}, letter.error_type), ": ", letter.error_message),
          h("p", {}, `From ${letter.original} · group ${letter.group} · ${letter.attempts} attempt(s) · key `, h("code", {}, letter.key ?? "none")),
          letter.problems.length ? h("ul", {}, letter.problems.map((p) => h("li", {}, h("code", {}, p.path), ` ${p.type}: ${p.description}`))) : null,
          letter.replayed ? badge("replayed", "ok") : h("button", { id: "replay-one", onclick: async () => {
            try {
              const done = await api(`/api/dead-letters/${encodeURIComponent(topic)}/replay`, { method: "POST", body: { letters: [{ partition: Number(partition), offset: Number(offset) }] } });
              replace(message, h("p", {}, done.replayed.length ? `replayed to ${done.replayed[0].to}` : `skipped: ${done.skipped.map((x) => x.why).join("; ")}`));
            } catch (error) { replace(message, problemView(error)); }
          } }, "Replay"), message),
        h("h2", {}, "Body"),
        letter.body !== null && letter.body !== undefined
          ? [h("p", { class: "muted" }, `decoded with schema id ${letter.schema_id}`), h("pre", { id: "letter-body" }, JSON.stringify(letter.body, null, 2))]
          : [h("p", { class: "error" }, `not decodable: ${letter.undecodable}`), h("pre", {}, letter.hex)],
        h("h2", {}, "Headers"),
        table([{ title: "Name", cell: (x) => h("code", {}, x[0]) }, { title: "Value", cell: (x) => h("code", {}, x[1] ?? "") }], letter.headers));
    } catch (error) { replace(body, problemView(error)); }
  })();
}

// -- mailbox ----------------------------------------------------------------------------------------------

function mailboxPage([key]) {
  const list = h("div", { id: "mail-list" });
  const reader = h("div", { id: "mail" });
  view.append(h("h1", {}, "Mailbox"), h("div", { class: "cols", style: "grid-template-columns: 2fr 3fr" }, list, reader));
  if (key) {
    (async () => {
      try {
        const mail = await api(`/api/mailbox/${encodeURIComponent(key)}`);
        replace(reader, h("div", { class: "panel" },
          h("h2", {}, mail.subject || "(no subject)"),
          h("p", { class: "muted" }, `From ${mail.from} to ${mail.to} · ${when(mail.date)}`),
          h("pre", { style: "white-space: pre-wrap" }, mail.text)));
      } catch (error) { replace(reader, problemView(error)); }
    })();
  }
  every(3000, async () => {
    const data = await api("/api/mailbox");
    if (!data.sink) {
      replace(list, h("p", { class: "muted" }, `Mail goes to the SMTP server at ${data.smtp}: read it there.`));
      return;
    }
    replace(list, h("p", { class: "muted" }, `${data.messages.length} message(s)`), table([
      { title: "When", cell: (m) => when(m.date) },
      { title: "To", cell: (m) => m.to },
      { title: "Subject", cell: (m) => h("a", { href: `#/mailbox/${encodeURIComponent(m.key)}` }, m.subject || "(no subject)") },
    ], data.messages, { onclick: (m) => go(`#/mailbox/${encodeURIComponent(m.key)}`), rowClass: (m) => (m.key === key ? "highlight" : "") }));
  });
}

// Last, once every page's declarations above are initialised.
window.addEventListener("hashchange", route);
route();
