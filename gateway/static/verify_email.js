// The mailed link's page: the token is in the fragment (#token=...), which the browser
// never sends to the server. Loading the page changes nothing (mail scanners pre-fetch
// links); pressing the button POSTs the token (gateway/verify_email_api.py).
"use strict";
(function () {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const button = document.getElementById("verify-button");
  const result = document.getElementById("verify-result");
  const error = document.getElementById("verify-error");
  // Drop the token from the address bar and history once read.
  history.replaceState(null, "", location.pathname);
  if (!token) {
    button.disabled = true;
    error.textContent = "This link has no token; open the link from the email again.";
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    error.textContent = "";
    const response = await fetch("/api/auth/verify-email", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({token})});
    const body = await response.json();
    if (response.ok) {
      result.textContent = "Thank you: " + body.email + " is verified.";
    } else {
      error.textContent = body.detail || response.statusText;
      button.disabled = false;
    }
  });
})();
