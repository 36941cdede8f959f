// The page behind a mailed link (verify_email.js, confirm_email.js): the token is in the
// fragment (#token=...), which the browser never sends to the server. Loading the page
// changes nothing (mail scanners pre-fetch links); pressing the button POSTs the token.
"use strict";
window.TicketQEmailedLink = function ({ prefix, endpoint, done }) {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  const button = document.getElementById(prefix + "-button");
  const result = document.getElementById(prefix + "-result");
  const error = document.getElementById(prefix + "-error");
  history.replaceState(null, "", location.pathname);  // the token out of the address bar
  if (!token) {
    button.disabled = true;
    error.textContent = "This link has no token; open the link from the email again.";
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    error.textContent = "";
    const response = await fetch(endpoint, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({token})});
    const body = await response.json();
    if (response.ok) {
      result.textContent = done(body);
    } else {
      error.textContent = body.detail || response.statusText;
      button.disabled = false;
    }
  });
};
