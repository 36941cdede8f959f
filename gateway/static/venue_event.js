// The venue's page of one event: its tiers, publishing, its drops and their settings, and
// cancelling it (the confirmation counts the paid orders that will be refunded).
"use strict";
const $ = (selector) => document.querySelector(selector);
const eventId = Number($("#event-page").dataset.eventId);
let timeZone = "UTC";

// api(): static/api.js; venueTime: static/venue_time.js; venueNote: static/venue_notes.js;
// venueImage: static/venue_image.js
function money(cents, currency) {
  return new Intl.NumberFormat(undefined, {style: "currency", currency}).format(cents / 100);
}

function cells(row, values) {
  for (const value of values) {
    const cell = document.createElement("td");
    if (value instanceof Node) cell.append(value); else cell.textContent = value;
    row.append(cell);
  }
  return row;
}

function showEvent(event, venue) {
  timeZone = venue.timezone;
  document.title = `${event.title}: venue tools`;
  $("#event-title").textContent = event.title;
  $("#event-status").textContent = event.status;
  $("#event-when").textContent = `${venueTime.format(event.starts_at, timeZone)} to ${venueTime.format(event.ends_at, timeZone)} · ${venue.name}, ${venue.city} (${timeZone})`;
  $("#drop-zone").textContent = `(times in ${timeZone})`;
  $("#event-zone").textContent = `(times in ${timeZone})`;
  venueEdit.fillEvent($("#event-form"), event, timeZone);
  venueImage.show(event);
  const draft = event.status === "draft";
  $("#publish").hidden = !draft;
  $("#publish-text").textContent = draft ? "Draft: fans cannot see this event yet."
    : event.status === "published" ? "Published: fans see this event and its drops."
    : `This event is ${event.status}.`;
}

function showTiers(tiers) {
  $("#tiers").replaceChildren(...tiers.map((tier) => cells(document.createElement("tr"), [
    tier.name, money(tier.price_cents, tier.currency), tier.capacity, tier.per_fan_limit])));
  if (!tiers.length) $("#tiers").innerHTML = "<tr><td colspan=\"4\">No tiers yet: add one below.</td></tr>";
}

function showDrops(drops) {
  $("#drops").replaceChildren(...drops.map((drop) => {
    const link = document.createElement("a");
    link.href = `/venue/drops/${drop.id}`;
    link.textContent = "Dashboard";
    const row = cells(document.createElement("tr"), [
      `#${drop.id} ${drop.mode} · ${drop.state}`,
      `${venueTime.format(drop.opens_at, timeZone)} – ${venueTime.format(drop.closes_at, timeZone)}`,
      `${drop.admit_per_minute}/min, ${drop.max_active} at once${drop.requires_verified_email ? ", verified emails" : ""}`,
      `${drop.hold_seconds} s cart, ${drop.session_seconds} s session`, link]);
    row.dataset.dropId = drop.id;
    return row;
  }));
  if (!drops.length) $("#drops").innerHTML = "<tr><td colspan=\"5\">No drops yet: schedule one below.</td></tr>";
}

function showError(message) {
  $("#error").textContent = message;
  $("#error").hidden = !message;
}

async function refresh() {
  const [event, mine, managed] = await Promise.all([api(`/api/events/${eventId}`),
    api("/api/me/venues"), api(`/api/events/${eventId}/tiers`)]);
  const venue = mine.venues.find((candidate) => candidate.id === event.venue_id);
  if (!venue) throw new Error("only this event's venue admins can manage it");
  const listed = venue.events.find((candidate) => candidate.id === eventId);
  showEvent(event, venue);
  showTiers(event.tiers);
  venueEdit.tierForms($("#tier-edits"), managed.tiers, saveTier);
  showDrops(listed ? listed.drops : []);
}

// One form: its body from the fields, its note right under it.
function onSubmit(form, note, send, done) {
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    try {
      await send(Object.fromEntries(new FormData(form).entries()));
      venueNote(note, true, done);
      await refresh();
    } catch (error) { venueNote(note, false, error.message); }
  });
}

onSubmit($("#tier-form"), $("#tier-note"), (data) => api(`/api/events/${eventId}/tiers`, {
  method: "POST", body: JSON.stringify({...data, price_cents: Number(data.price_cents),
    capacity: Number(data.capacity), per_fan_limit: Number(data.per_fan_limit)})}), "Tier added.");

onSubmit($("#drop-form"), $("#drop-note"), (data) => {
  const body = {event_id: eventId, mode: data.mode,
    requires_verified_email: $("#drop-verified").checked};
  for (const key of ["prequeue_opens_at", "opens_at", "closes_at"]) body[key] = venueTime.toIso(data[key], timeZone);
  for (const key of ["admit_per_minute", "max_active", "session_seconds", "hold_seconds"]) body[key] = Number(data[key]);
  return api("/api/drops", {method: "POST", body: JSON.stringify(body)});
}, "Drop scheduled.");

onSubmit($("#event-form"), $("#event-note"), (data) => api(`/api/events/${eventId}`, {
  method: "PATCH", body: JSON.stringify({title: data.title.trim(), description: data.description,
    starts_at: venueTime.toIso(data.starts_at, timeZone), ends_at: venueTime.toIso(data.ends_at, timeZone)})}),
"Details saved.");

// A tier's note is written after the refresh re-draws its form, so the message stays.
async function saveTier(tierId, changes) {
  const note = () => document.getElementById(`tier-edit-${tierId}-note`);
  if (!Object.keys(changes).length) { venueNote(note(), false, "Nothing changed."); return; }
  try {
    await api(`/api/events/${eventId}/tiers/${tierId}`, {method: "PATCH", body: JSON.stringify(changes)});
    await refresh();
    venueNote(note(), true, "Tier saved.");
  } catch (error) { venueNote(note(), false, error.message); }
}

$("#publish").addEventListener("click", async () => {
  try {
    await api(`/api/events/${eventId}/publish`, {method: "POST"});
    venueNote($("#publish-note"), true, "Published: fans can see the event now.");
    await refresh();
  } catch (error) { venueNote($("#publish-note"), false, error.message); }
});

// The confirmation says how many paid orders the cancel refunds (from the sales figures).
const modal = new bootstrap.Modal($("#cancel-modal"));
$("#cancel").addEventListener("click", async () => {
  try {
    const sales = await api(`/api/events/${eventId}/sales`);
    const orders = sales.revenue.reduce((sum, entry) => sum + entry.paid_orders, 0);
    const amount = sales.revenue.map((entry) => money(entry.revenue_cents, entry.currency)).join(" + ");
    $("#cancel-count").textContent = orders
      ? `${orders} paid order${orders === 1 ? "" : "s"} will be refunded (${amount}).`
      : "No paid orders: nothing will be refunded.";
    modal.show();
  } catch (error) { venueNote($("#cancel-note"), false, error.message); }
});
$("#cancel-confirm").addEventListener("click", async () => {
  modal.hide();
  try {
    const progress = await api(`/api/events/${eventId}/cancel`, {method: "POST",
      body: JSON.stringify({reason: $("#cancel-reason").value.trim()})});
    venueNote($("#cancel-note"), true, `Cancelled: ${progress.paid_orders_left} order(s) left to refund, ${progress.refunded_orders} refunded so far.`);
    await refresh();
  } catch (error) { venueNote($("#cancel-note"), false, error.message); }
});

venueImage.wire(refresh);

refresh().then(() => showError("")).catch((error) => showError(error.message));
