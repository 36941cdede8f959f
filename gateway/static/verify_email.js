// The verification link's page (gateway/verify_email_api.py); see emailed_link.js.
"use strict";
window.TicketQEmailedLink({
  prefix: "verify",
  endpoint: "/api/auth/verify-email",
  done: (body) => "Thank you: " + body.email + " is verified.",
});
