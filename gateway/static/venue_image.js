// The event's picture on the venue page: a preview of the current one, an upload and a
// Remove button, each answered in the note under the control (static/venue_notes.js).
// The file goes up as the raw body with its own type (PUT /api/events/{id}/image); the
// page-wide fetch wrapper (static/csrf.js) adds the CSRF header as for every form.
"use strict";
window.venueImage = (function () {
  const byId = (id) => document.getElementById(id);
  const eventId = Number(byId("event-page").dataset.eventId);
  const path = `/api/events/${eventId}/image`;
  const TYPES = new Set(["image/png", "image/jpeg", "image/webp"]);

  function show(event) {
    const preview = byId("image-preview");
    preview.alt = event.image_url ? `Current picture of ${event.title}` : "";
    if (event.image_url) preview.src = event.image_url; else preview.removeAttribute("src");
    preview.hidden = !event.image_url;
    byId("image-none").hidden = Boolean(event.image_url);
    byId("image-remove").hidden = !event.image_url;
  }

  async function send(options) {
    const response = await fetch(path, {credentials: "same-origin", ...options});
    if (response.status === 401) location.href = "/login?next=" + encodeURIComponent(location.pathname);
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || response.statusText);
    }
  }

  // `refresh` re-reads the event, so the preview shows the stored (re-encoded) picture.
  function wire(refresh) {
    const note = byId("image-note");
    byId("image-form").addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const file = byId("image-file").files[0];
      if (!file) { venueNote(note, false, "Choose a picture first."); return; }
      if (!TYPES.has(file.type)) { venueNote(note, false, "Choose a PNG, JPEG or WebP picture."); return; }
      try {
        await send({method: "PUT", headers: {"Content-Type": file.type}, body: file});
        await refresh();
        byId("image-form").reset();
        venueNote(note, true, "Picture saved.");
      } catch (error) { venueNote(note, false, error.message); }
    });
    byId("image-remove").addEventListener("click", async () => {
      try {
        await send({method: "DELETE"});
        await refresh();
        venueNote(note, true, "Picture removed.");
      } catch (error) { venueNote(note, false, error.message); }
    });
  }

  return {show, wire};
})();
