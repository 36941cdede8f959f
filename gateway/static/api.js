// Shared by the venue pages: call the JSON API with the session cookie; a 401 sends
// the person to sign in and back; a problem+json answer becomes an Error with its detail.
"use strict";
async function api(path, options = {}) {
  const response = await fetch(path, {credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, ...options});
  if (response.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}
