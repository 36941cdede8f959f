/* Offline ticket checks for the door app: the payload format of scanner/payload.py, read in
 * the browser and verified with WebCrypto Ed25519 against the event's scanner bundle.
 * Exposes window.TicketQOffline = { importKeys(bundle), check(text, book) }. */
(() => {
  'use strict';
  const SIGNING_DOMAIN = new TextEncoder().encode('ticketq/ticket-qr/v1\0');
  const BODY_SIZE = 27;
  const PAYLOAD_SIZE = 94;

  function fromBase64Url(text) {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  }

  function base32Decode(text) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    const out = [];
    let bits = 0;
    let value = 0;
    for (const char of text.trim().toUpperCase().replace(/=+$/, '')) {
      const index = alphabet.indexOf(char);
      if (index < 0) return null;
      value = ((value << 5) | index) & 0xffff;
      bits += 5;
      if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
    }
    return new Uint8Array(out);
  }

  function uuidFrom(bytes) {
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /* The bundle's public keys as WebCrypto keys, by key id (empty without Ed25519 support). */
  async function importKeys(bundle) {
    const keys = new Map();
    for (const key of bundle.keys) {
      const imported = await crypto.subtle.importKey(
        'raw', fromBase64Url(key.public_key), { name: 'Ed25519' }, false, ['verify']);
      keys.set(key.key_id, imported);
    }
    return keys;
  }

  /* book = { bundle, keys, revoked: Set, inside: Set }; a valid ticket joins `inside`. */
  async function check(text, book) {
    const raw = base32Decode(text);
    if (!raw || raw.length === 0) return { result: 'invalid', reason: 'not a TicketQ ticket code' };
    // Byte 0: 1 a phone code, 2 a printed code (signed, so it cannot be changed; scanner/payload.py).
    if (raw[0] !== 1 && raw[0] !== 2) return { result: 'invalid', reason: `unsupported format ${raw[0]}` };
    if (raw.length !== PAYLOAD_SIZE) return { result: 'invalid', reason: 'truncated code' };
    const view = new DataView(raw.buffer);
    const ticketId = uuidFrom(raw.slice(3, 19));
    if (!book.bundle || view.getUint32(19) !== book.bundle.event_id) {
      return { result: 'invalid', reason: 'this ticket is for another event' };
    }
    const key = book.keys.get(view.getUint16(1));
    if (!key) return { result: 'invalid', reason: 'unknown or revoked signing key' };
    const message = new Uint8Array(SIGNING_DOMAIN.length + BODY_SIZE);
    message.set(SIGNING_DOMAIN);
    message.set(raw.slice(0, BODY_SIZE), SIGNING_DOMAIN.length);
    const signature = raw.slice(BODY_SIZE, BODY_SIZE + 64);
    const genuine = await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
    if (!genuine) return { result: 'invalid', reason: 'forged or damaged code' };
    if (raw[0] === 2 && !book.bundle.static_codes_allowed) {
      return { result: 'invalid', reason: 'printed ticket: this event admits only the live code in the app' };
    }
    const tier = book.bundle.tiers[String(view.getUint32(23))] || null;
    if (book.revoked.has(ticketId)) return { result: 'refunded', ticket_id: ticketId, tier };
    if (book.inside.has(ticketId)) return { result: 'duplicate', ticket_id: ticketId, tier };
    book.inside.add(ticketId);
    return { result: 'valid', ticket_id: ticketId, tier, offline: true };
  }

  window.TicketQOffline = { importKeys, check };
})();
