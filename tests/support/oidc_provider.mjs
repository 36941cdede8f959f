// A real OpenID Connect provider (node-oidc-provider) on loopback, for the tests only.
// Usage: node oidc_provider.mjs PORT CONFIG_JSON
//   CONFIG_JSON: {"clients": [{client_id, client_secret, redirect_uris}],
//                 "accounts": {"<login>": {"email": "...", "email_verified": true}}}
// Its dev login form takes any login name; a name missing from "accounts" signs in as
// <login>@example.test with a verified email. It exits when its parent goes away
// (stdin closes), so a crashed test run leaves nothing behind.
import Provider from "oidc-provider";

const [port, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ["authorization_code"], response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic", ...client,
  })),
  claims: {openid: ["sub"], email: ["email", "email_verified"], profile: ["name"]},
  pkce: {required: () => true},
  cookies: {keys: ["tests-only-cookie-key"]},
  features: {devInteractions: {enabled: true}},
  async findAccount(ctx, id) {
    const known = config.accounts[id] || {email: `${id}@example.test`, email_verified: true};
    return {accountId: id, async claims() { return {sub: id, name: id, ...known}; }};
  },
});
provider.proxy = false;
const server = provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
process.stdin.on("end", () => { server.close(); process.exit(0); });
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
