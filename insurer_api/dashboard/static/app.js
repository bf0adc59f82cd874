// NEOT dashboard: one page, three views (driver, insurer, repair shop), the same API and
// authorisation as any other client. Everything it shows comes from the JSON API.
"use strict";

const API = {
  token: "/v1/auth/token",
  me: "/v1/auth/me",
  trips: "/v1/trips",
  trip: (id) => `/v1/trips/${id}`,
  track: (id) => `/v1/trips/${id}/track`,
  tripScores: (id) => `/v1/trips/${id}/scores`,
  statements: "/v1/statements",
  statement: (id) => `/v1/statements/${id}`,
  policies: "/v1/policies",
  drivers: "/v1/drivers",
  vehicles: "/v1/vehicles",
  epochs: "/v1/epochs",
  jobs: "/v1/repair-jobs",
  roads: "/dashboard/roads.geojson",
};
const EVENT_COLOURS = { harsh_brake: "#d1242f", harsh_accel: "#bf8700", harsh_corner: "#8250df", speeding: "#0969da" };
const NEOT = 1e8;

let token = sessionStorage.getItem("neot-token");
let map = null;
let tripLayer = null;

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) { signOut(); throw new Error("signed out"); }
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

const $ = (id) => document.getElementById(id);
const neot = (base) => (base === null || base === undefined ? "–" : (base / NEOT).toFixed(2));
const day = (ns) => new Date(ns / 1e6).toISOString().slice(0, 16).replace("T", " ");

function fillTable(id, rows) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (typeof cell === "object" && cell !== null) { td.textContent = cell.text; td.className = cell.cls; }
      else td.textContent = cell ?? "–";
      tr.append(td);
    }
    return tr;
  }));
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch(API.token, { method: "POST", body: new URLSearchParams(form) });
  if (!response.ok) { $("login-error").textContent = "Wrong user name or password."; return; }
  token = (await response.json()).access_token;
  sessionStorage.setItem("neot-token", token);
  await show();
}

function signOut() {
  token = null;
  sessionStorage.removeItem("neot-token");
  location.reload();
}

async function show() {
  const me = await api(API.me);
  $("who").textContent = `${me.username} (${me.role.replace("_", " ")})`;
  $("login-view").hidden = true;
  $("logout").hidden = false;
  if (me.role === "driver") await showDriver();
  else if (me.role === "insurer" || me.role === "admin") await showInsurer();
  else if (me.role === "repair_shop") await showShop();
}

// --- driver -------------------------------------------------------------------------------
async function showDriver() {
  $("driver-view").hidden = false;
  map = L.map("map", { preferCanvas: false, attributionControl: true });
  map.attributionControl.addAttribution("roads © OpenStreetMap contributors (ODbL)");
  const roads = await (await fetch(API.roads)).json();
  L.geoJSON(roads, { style: { color: "#9aa5b1", weight: 1.5, interactive: false } }).addTo(map);
  const trips = await api(API.trips);
  const select = $("trip-select");
  select.replaceChildren(...trips.map((t) => new Option(`${day(t.start_ns)} · ${(t.distance_m / 1000).toFixed(1)} km`, t.id)));
  select.onchange = () => drawTrip(select.value);
  if (trips.length) await drawTrip(trips[trips.length - 1].id, select);
  await drawScores(trips);
  // the list leaves out proofs; each statement's own page carries them
  const statements = await Promise.all((await api(API.statements)).map((s) => api(API.statement(s.id))));
  fillTable("driver-statements", statements.map((s) => [
    s.period, s.trip_count, (s.distance_m / 1000).toFixed(1), s.driver_score, neot(s.premium),
    proofStatus(s), { text: s.payment?.tx_hash ?? s.charge_error ?? "–", cls: "hash" },
  ]));
}

// How many of the scores a statement used are anchored on chain (their proof names an anchor).
function proofStatus(statement) {
  const anchored = statement.scores.filter((s) => s.proof?.anchor).length;
  return anchored === statement.scores.length ? `anchored (${anchored})` : `${anchored}/${statement.scores.length} anchored`;
}

async function drawTrip(id, select) {
  if (select) select.value = id;
  const [trip, track] = await Promise.all([api(API.trip(id)), api(API.track(id))]);
  if (tripLayer) tripLayer.remove();
  tripLayer = L.layerGroup().addTo(map);
  const line = L.polyline(track.points, { color: "#00af92", weight: 4 }).addTo(tripLayer);
  for (const e of trip.events) {
    if (e.lat === null) continue;
    L.circleMarker([e.lat, e.lon], { radius: 6, color: EVENT_COLOURS[e.kind], fillOpacity: 0.9, className: `event ${e.kind}` })
      .bindTooltip(`${e.kind.replace("_", " ")} · peak ${e.peak.toFixed(1)}`)
      .addTo(tripLayer);
  }
  map.fitBounds(line.getBounds(), { padding: [20, 20] });
  const counts = {};
  for (const e of trip.events) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  $("trip-summary").textContent = `${(trip.distance_m / 1000).toFixed(1)} km in ${Math.round(trip.duration_s / 60)} min · ` +
    (Object.entries(counts).map(([k, n]) => `${n} ${k.replace("_", " ")}`).join(", ") || "no events");
}

async function drawScores(trips) {
  const points = [];
  for (const t of trips) {
    const scores = await api(API.tripScores(t.id));
    if (scores.length) points.push({ x: day(t.start_ns), y: scores[0].score });
  }
  new Chart($("score-chart"), {
    type: "line",
    data: { labels: points.map((p) => p.x), datasets: [{ label: "trip score", data: points.map((p) => p.y), borderColor: "#00af92" }] },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } },
  });
}

// --- insurer ------------------------------------------------------------------------------
async function showInsurer() {
  $("insurer-view").hidden = false;
  const [policies, drivers, vehicles, statements, jobs, epochs] = await Promise.all(
    [API.policies, API.drivers, API.vehicles, API.statements, API.jobs, API.epochs].map(api));
  const name = Object.fromEntries(drivers.map((d) => [d.id, d.name]));
  const vin = Object.fromEntries(vehicles.map((v) => [v.id, v.vin]));
  fillTable("portfolio", policies.map((p) => {
    const own = statements.filter((s) => s.policy_id === p.id);
    const latest = own[own.length - 1];
    return [p.id, name[p.driver_id], vin[p.vehicle_id], p.status, latest?.driver_score, neot(latest?.premium),
      jobs.filter((j) => j.policy_id === p.id).length];
  }));
  fillTable("epochs", epochs.map((e) => [e.epoch, e.state, e.leaf_count, { text: e.root ?? "–", cls: "hash" },
    { text: e.tx_hash ?? "–", cls: "hash" }, e.block]));
}

// --- repair shop --------------------------------------------------------------------------
async function showShop() {
  $("shop-view").hidden = false;
  const jobs = await api(API.jobs);
  fillTable("jobs", jobs.map((j) => [j.id, j.service, j.state, neot(j.invoice_amount), neot(j.shop_amount),
    { text: j.chain_job_id, cls: "hash" }]));
}

$("login-form").addEventListener("submit", signIn);
$("logout").addEventListener("click", signOut);
if (token) show().catch(() => signOut());
