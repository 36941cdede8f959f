/* TicketQ door app: camera or manual scans, online check-in, offline verification and queue.
 *
 * Online, every scan goes to POST /api/scan (the server checks signature, rotating code,
 * revocation and the atomic check-in). When the network is gone (or "Offline mode" is on)
 * the app verifies the code itself against the downloaded bundle: Ed25519 signature with the
 * event's public key (WebCrypto), revocation list, tickets already in. Admissions made
 * offline queue in localStorage and upload to /api/events/{id}/offline-scans when back online.
 * The payload layout is documented in scanner/payload.py.
 */
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const RESULT_WORDS = { valid: 'Valid', duplicate: 'Duplicate', invalid: 'Invalid', refunded: 'Refunded' };
  const REPEAT_GUARD_MS = 4000;
  const AUTO_HIDE_MS = 2500;

  const state = {
    setup: JSON.parse(localStorage.getItem('tq.door.setup') || 'null'),
    bundle: null, keys: new Map(), revoked: new Set(), inside: new Set(),
    queue: JSON.parse(localStorage.getItem('tq.door.queue') || '[]'),
    admitted: Number(localStorage.getItem('tq.door.admitted') || '0'),
    eventCount: null, busy: false, guard: new Map(), audio: null, hideTimer: null, scanning: false,
  };

  function randomId(bytes = 12) {
    const raw = new Uint8Array(bytes);
    crypto.getRandomValues(raw);
    return Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function deviceId() {
    let id = localStorage.getItem('tq.door.device');
    if (!id) { id = `door-${randomId(8)}`; localStorage.setItem('tq.door.device', id); }
    return id;
  }

  function show(section) {
    for (const name of ['login', 'setup', 'scanner']) $(name).hidden = name !== section;
  }

  function offline() { return $('force-offline').checked || !navigator.onLine; }

  function saveQueue() {
    localStorage.setItem('tq.door.queue', JSON.stringify(state.queue));
    localStorage.setItem('tq.door.admitted', String(state.admitted));
    $('queued-count').textContent = String(state.queue.length);
    $('admitted-count').textContent = String(state.admitted);
  }

  function showNet() {
    const net = $('net');
    net.textContent = offline() ? 'offline' : 'online';
    net.classList.toggle('offline', offline());
  }

  async function api(path, options = {}) {
    const response = await fetch(path, {
      credentials: 'same-origin', cache: 'no-store', ...options,
      headers: { 'Content-Type': 'application/json', ...(options.headers || {}) },
    });
    const body = await response.json().catch(() => ({}));
    return { status: response.status, body };
  }

  // --- bundle (offline checks live in offline.js) -------------------------------------
  async function useBundle(bundle) {
    state.bundle = bundle;
    try {
      state.keys = await window.TicketQOffline.importKeys(bundle);
    } catch (error) {
      state.keys = new Map();
      $('camera-status').textContent = 'This browser cannot verify tickets offline (no Ed25519).';
    }
    state.revoked = new Set(bundle.revoked);
    for (const id of bundle.checked_in) state.inside.add(id);
    // The server's count lacks this device's admissions still waiting to upload.
    const waiting = state.queue.filter((scan) => scan.eventId === state.setup.eventId).length;
    state.eventCount = bundle.admitted_count + waiting;
    showEventCount();
  }

  function showEventCount() {
    $('event-count').textContent = state.eventCount === null ? '–' : String(state.eventCount);
  }

  async function loadBundle() {
    const eventId = state.setup.eventId;
    const cacheKey = `tq.door.bundle.${eventId}`;
    try {
      const { status, body } = await api(`/api/events/${eventId}/scanner-bundle`);
      if (status === 200) {
        localStorage.setItem(cacheKey, JSON.stringify(body));
        await useBundle(body);
        return;
      }
    } catch (error) { /* offline: fall back to the stored bundle */ }
    const stored = localStorage.getItem(cacheKey);
    if (stored) await useBundle(JSON.parse(stored));
  }

  // --- scanning -------------------------------------------------------------------------
  async function checkIn(text) {
    const nonce = randomId();
    if (!offline()) {
      try {
        const { status, body } = await api('/api/scan', {
          method: 'POST',
          body: JSON.stringify({ payload: text, gate: state.setup.gate, device_id: deviceId(),
                                 nonce, event_id: state.setup.eventId }),
        });
        if (status === 200) {
          if (body.result === 'valid' && body.ticket_id) state.inside.add(body.ticket_id);
          return body;
        }
        if (status === 401) { show('login'); return { result: 'invalid', reason: 'signed out' }; }
        return { result: 'invalid', reason: body.detail || `error ${status}` };
      } catch (error) { /* the network failed: verify offline below */ }
    }
    const local = await window.TicketQOffline.check(text, state);
    if (local.result === 'valid') {
      state.queue.push({ eventId: state.setup.eventId, payload: text, gate: state.setup.gate,
                         nonce, scanned_at: new Date().toISOString() });
    }
    return local;
  }

  function beep(result) {
    if (!state.audio) return;
    const tones = { valid: [[880, 0.15]], duplicate: [[440, 0.12], [440, 0.12]],
                    invalid: [[220, 0.5]], refunded: [[220, 0.5]] }[result] || [];
    let at = state.audio.currentTime;
    for (const [frequency, length] of tones) {
      const oscillator = state.audio.createOscillator();
      const gain = state.audio.createGain();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain).connect(state.audio.destination);
      gain.gain.setValueAtTime(0.3, at);
      oscillator.start(at);
      oscillator.stop(at + length);
      at += length + 0.08;
    }
    if (navigator.vibrate) navigator.vibrate(result === 'valid' ? 80 : [200, 80, 200]);
  }

  function describe(answer) {
    const lines = [];
    if (answer.holder || answer.tier) lines.push([answer.holder, answer.tier].filter(Boolean).join(' · '));
    if (answer.result === 'duplicate' && answer.first_scanned_at) {
      lines.push(`First scanned ${new Date(answer.first_scanned_at).toLocaleTimeString()}` +
                 (answer.first_gate ? ` at ${answer.first_gate}` : ''));
    }
    if (answer.reason) lines.push(answer.reason);
    if (answer.offline) lines.push('Checked offline: will upload when back online');
    return lines.join('\n');
  }

  function hideResult() {
    clearTimeout(state.hideTimer);
    $('result').hidden = true;
    $('result').dataset.result = '';
    state.busy = false;
  }

  function showResult(answer, text) {
    const result = RESULT_WORDS[answer.result] ? answer.result : 'invalid';
    const overlay = $('result');
    overlay.className = `result ${result}`;
    overlay.dataset.result = result;
    overlay.dataset.payload = text;
    $('result-word').textContent = RESULT_WORDS[result];
    $('result-detail').textContent = describe(answer);
    overlay.hidden = false;
    beep(result);
    state.guard.set(text, Date.now() + AUTO_HIDE_MS + REPEAT_GUARD_MS);
    state.hideTimer = setTimeout(hideResult, AUTO_HIDE_MS);
  }

  async function handle(text) {
    if (state.busy || !text) return;
    if ((state.guard.get(text) || 0) > Date.now()) return;
    state.busy = true;
    let answer;
    try {
      answer = await checkIn(text);
    } catch (error) {
      answer = { result: 'invalid', reason: `could not check this code (${error.name})` };
    }
    if (answer.result === 'valid') {
      // Both counters move at once; the next bundle (every 30 s) brings other gates' admissions.
      state.admitted += 1;
      if (state.eventCount !== null) state.eventCount += 1;
      showEventCount();
    }
    saveQueue();
    showResult(answer, text);
  }

  async function detectLoop(detector) {
    const video = $('video');
    const canvas = $('frame');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    while (state.scanning) {
      if (!state.busy && video.readyState >= 2 && video.videoWidth > 0) {
        let text = null;
        try {
          if (detector) {
            const codes = await detector.detect(video);
            text = codes.length ? codes[0].rawValue : null;
          } else {
            canvas.width = video.videoWidth;
            canvas.height = video.videoHeight;
            context.drawImage(video, 0, 0);
            const image = context.getImageData(0, 0, canvas.width, canvas.height);
            const found = window.jsQR(image.data, image.width, image.height,
                                      { inversionAttempts: 'dontInvert' });
            text = found ? found.data : null;
          }
        } catch (error) { text = null; }
        if (text) await handle(text);
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  async function qrDetector() {
    if (!('BarcodeDetector' in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes('qr_code') ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
    } catch (error) { return null; }
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $('camera-status').textContent = 'No camera here: type the code under the QR instead.';
      return;
    }
    const detector = await qrDetector();
    if (!detector && typeof window.jsQR !== 'function') {
      // jsQR comes from npm (node_modules) and is missing until `make install` has run:
      // no decoder, so no point in holding the camera.
      $('camera-status').textContent =
        'QR decoder not installed (run `make install`): type the code under the QR instead.';
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia(
        { video: { facingMode: 'environment' }, audio: false });
      const video = $('video');
      video.srcObject = stream;
      await video.play();
    } catch (error) {
      $('camera-status').textContent = `Camera unavailable (${error.name}): type codes instead.`;
      return;
    }
    $('camera-status').textContent = detector ? 'Scanning (BarcodeDetector)' : 'Scanning (jsQR)';
    state.scanning = true;
    detectLoop(detector);
  }

  // --- uploads ----------------------------------------------------------------------------
  async function flushQueue() {
    showNet();
    if (offline() || state.queue.length === 0) return;
    // Scans queue per event (staff may switch events while offline): upload one event at a time.
    const eventId = state.queue[0].eventId;
    const batch = state.queue.filter((scan) => scan.eventId === eventId).slice(0, 100);
    const scans = batch.map(({ payload, gate, nonce, scanned_at }) => ({ payload, gate, nonce, scanned_at }));
    try {
      const { status } = await api(`/api/events/${eventId}/offline-scans`, {
        method: 'POST', body: JSON.stringify({ device_id: deviceId(), scans }),
      });
      if (status === 200) {
        const sent = new Set(batch.map((scan) => scan.nonce));
        state.queue = state.queue.filter((scan) => !sent.has(scan.nonce));
        saveQueue();
        if (state.queue.length) flushQueue();
      }
    } catch (error) { /* still offline; try again later */ }
  }

  // --- screens ----------------------------------------------------------------------------
  async function openScanner() {
    show('scanner');
    $('event-title').textContent = state.setup.title;
    $('gate-label').textContent = state.setup.gate;
    saveQueue();
    showNet();
    await loadBundle();
    startCamera();
    flushQueue();
  }

  async function openSetup() {
    show('setup');
    const { status, body } = await api('/api/scanner/events');
    if (status === 401) { show('login'); return; }
    const select = $('event');
    select.textContent = '';
    for (const event of body.events || []) {
      const option = document.createElement('option');
      option.value = String(event.id);
      option.textContent = `${event.title} (${event.venue})`;
      select.appendChild(option);
    }
    if (!select.options.length) $('setup-error').textContent = 'No events to scan for this account.';
  }

  async function boot() {
    // /scan?offline=1 starts in offline mode: door drills, and the browser test.
    if (new URLSearchParams(location.search).get('offline') === '1') $('force-offline').checked = true;
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/scan/sw.js', { scope: '/scan' }).catch(() => {});
    }
    try {
      const { status } = await api('/api/me');
      if (status === 401) { show('login'); return; }
    } catch (error) {
      if (state.setup) { openScanner(); return; }  // offline start from the cached page
      show('login');
      return;
    }
    if (state.setup) openScanner(); else openSetup();
  }

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const { status, body } = await api('/api/auth/login', {
      method: 'POST', body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
    });
    if (status === 200) { $('login-error').textContent = ''; state.setup ? openScanner() : openSetup(); return; }
    $('login-error').textContent = body.detail || 'Sign-in failed';
  });

  $('start').addEventListener('click', () => {
    const select = $('event');
    if (!select.value) return;
    state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)();
    state.setup = { eventId: Number(select.value), gate: $('gate').value.trim() || 'Gate',
                    title: select.options[select.selectedIndex].textContent };
    localStorage.setItem('tq.door.setup', JSON.stringify(state.setup));
    openScanner();
  });

  $('change-door').addEventListener('click', () => {
    state.scanning = false;
    state.admitted = 0;
    state.inside = new Set();
    state.eventCount = null;
    saveQueue();
    const stream = $('video').srcObject;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    localStorage.removeItem('tq.door.setup');
    state.setup = null;
    openSetup();
  });

  $('manual-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = $('manual').value.trim();
    $('manual').value = '';
    state.guard.delete(text);
    handle(text);
  });

  $('result').addEventListener('click', () => {
    state.guard.delete($('result').dataset.payload || '');
    hideResult();
  });

  $('force-offline').addEventListener('change', () => { showNet(); flushQueue(); });
  window.addEventListener('online', flushQueue);
  window.addEventListener('offline', showNet);
  setInterval(flushQueue, 10000);
  setInterval(() => { if (state.setup && !offline() && !$('scanner').hidden) loadBundle(); }, 30000);
  document.addEventListener('click', () => {
    state.audio = state.audio || new (window.AudioContext || window.webkitAudioContext)();
  }, { once: true });

  boot();
})();
