// A real OpenID Connect provider (node-oidc-provider, npm) on loopback, for the tests.
//
//   node tests/support/oidc_provider.mjs PORT CONFIG_JSON
//   CONFIG_JSON: {"clients": [{"client_id", "client_secret", "redirect_uris": [...]}]}
//
// Its development login form takes any login name (and any password): see claimsOf for
// the email each name gets; the name is the `sub`. Consent is
// granted at once for the registered clients (first-party, as TicketQ is to itself).
// It stops with SIGTERM (tests/support/oidc.py's supervisor) and by itself when the
// process that started it is gone, so a killed test run leaves nothing listening.
import Provider from "oidc-provider";

const [port, configJson] = process.argv.slice(2);

// The login name chooses the person: "unverified:<email>" has that email unverified,
// "<email>" has it verified, any other name has <name>@example.test, verified.
function claimsOf(login) {
  if (login.startsWith("unverified:")) {
    return {email: login.slice("unverified:".length), email_verified: false};
  }
  return {email: login.includes("@") ? login : `${login}@example.test`, email_verified: true};
}
const config = JSON.parse(configJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ["authorization_code"], response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic", ...client,
  })),
  claims: {openid: ["sub"], email: ["email", "email_verified"], profile: ["name"]},
  pkce: {required: () => true},
  // Put the email claims in the ID token itself, as Google does (not only in userinfo).
  conformIdTokenClaims: false,
  cookies: {keys: ["tests-only-cookie-key"]},
  features: {devInteractions: {enabled: true}},
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    return {accountId: id, async claims() { return {sub: id, name: "OIDC tester", ...claimsOf(id)}; }};
  },
});

const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) { server.close(); process.exit(0); } }, 1000);
process.on("SIGTERM", () => { server.close(); process.exit(0); });
