// The email-change link's page (gateway/account_api.py); see emailed_link.js.
"use strict";
window.TicketQEmailedLink({
  prefix: "confirm",
  endpoint: "/api/auth/email-change/confirm",
  done: (body) => "Done: your account's email is now " + body.email + ".",
});
