// The proof-of-work a new place in a drop's line may need (docs/security.md, "Joining a
// drop"): fetch this fan's challenge, solve it with altcha's solver (the npm package's
// library, WebCrypto SHA-256 on this page: no widget, no worker, no inline code), and
// return the payload the join sends as `challenge`. queue.js imports this only when a
// join is refused with ChallengeRequired, so reconnects never load or solve anything.
import { sha, solveChallenge } from "/static/vendor/altcha/lib.js";

export async function solveJoinChallenge(dropId) {
  const response = await fetch(`/api/drops/${dropId}/challenge`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`challenge: ${response.status}`);
  const challenge = await response.json();
  const solution = await solveChallenge({ challenge, deriveKey: sha.deriveKey, timeout: 60000 });
  if (!solution) throw new Error("challenge: not solved in time");
  const answer = { counter: solution.counter, derivedKey: solution.derivedKey };
  return btoa(JSON.stringify({ challenge, solution: answer }));
}
