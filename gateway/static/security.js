// /account/security: turn two-factor authentication on (secret, then a code from the
// app, then the recovery codes shown once) or off (gateway/totp_api.py).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const error = $("totp-error");
  function show(id, visible) { $(id).hidden = !visible; }
  function fail(problem) { error.textContent = problem.message; }

  async function refresh() {
    const state = await api("/api/me/totp");
    $("totp-status").textContent = state.enabled
      ? "Two-factor authentication is on (" + state.recovery_codes_left + " recovery codes left)."
      : "Two-factor authentication is off.";
    show("totp-off", !state.enabled);
    show("totp-disable", state.enabled);
    show("totp-confirm", false);
  }

  $("totp-start").addEventListener("click", async () => {
    error.textContent = "";
    try {
      const enrolment = await api("/api/me/totp", {method: "POST"});
      $("totp-secret").textContent = enrolment.secret;
      $("totp-uri").href = enrolment.otpauth_uri;
      show("totp-off", false);
      show("totp-confirm", true);
    } catch (problem) { fail(problem); }
  });

  $("totp-confirm").addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const code = new FormData(event.target).get("code");
    try {
      const result = await api("/api/me/totp/confirm", {method: "POST", body: JSON.stringify({code})});
      const list = $("totp-recovery-codes");
      list.replaceChildren(...result.recovery_codes.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      show("totp-recovery", true);
      await refresh();
    } catch (problem) { fail(problem); }
  });

  $("totp-disable").addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const code = new FormData(event.target).get("code");
    try {
      await api("/api/me/totp/disable", {method: "POST", body: JSON.stringify({code})});
      show("totp-recovery", false);
      event.target.reset();
      await refresh();
    } catch (problem) { fail(problem); }
  });

  refresh().catch(fail);
})();
