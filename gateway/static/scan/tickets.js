/* The fan's tickets: each valid ticket shows a QR fetched fresh every code period. */
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const timers = new Map();

  async function getJson(path) {
    const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
    const body = await response.json().catch(() => ({}));
    return { status: response.status, body };
  }

  async function refreshCode(ticketId, item) {
    const { status, body } = await getJson(`/api/me/tickets/${ticketId}/code`).catch(
      () => ({ status: 0, body: {} }));
    let wait = 3000;
    if (status === 200) {
      item.querySelector('.qr').innerHTML = body.svg;  // SVG made by our server (segno)
      item.querySelector('.qr').dataset.payload = body.payload;
      item.querySelector('.manual').textContent = body.manual_code;
      item.querySelector('.state').textContent = `Code changes every ${body.period_s} s`;
      wait = body.refresh_in_ms + 150;
    } else if (status >= 400 && status < 500) {
      item.querySelector('.qr').textContent = '';
      item.querySelector('.state').textContent = body.detail || 'This ticket cannot be shown.';
      return;
    } else {
      item.querySelector('.state').textContent = 'No connection: reconnect to refresh the code.';
    }
    timers.set(ticketId, setTimeout(() => refreshCode(ticketId, item), wait));
  }

  function render(tickets) {
    const list = $('tickets');
    list.textContent = '';
    $('empty').hidden = tickets.length > 0;
    for (const ticket of tickets) {
      const item = $('ticket-template').content.firstElementChild.cloneNode(true);
      item.dataset.ticketId = ticket.id;
      item.querySelector('.title').textContent = ticket.event.title;
      if (ticket.event.image_url) {
        const picture = item.querySelector('.pass-image');
        picture.src = ticket.event.image_url;
        picture.alt = ticket.event.title;
        picture.hidden = false;
      }
      // The event's date on the venue's clock (a 20:00 show reads 20:00 from anywhere).
      const when = ticket.event.starts_at ? new Intl.DateTimeFormat(undefined, {
        timeZone: ticket.event.timezone || undefined, weekday: 'short', day: 'numeric',
        month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
      }).format(new Date(ticket.event.starts_at)) : '';
      item.querySelector('.meta').textContent = `${when} · ${ticket.event.venue}, ${ticket.event.city}`;
      item.querySelector('.holder').textContent = ticket.holder || '';
      item.querySelector('.tier').textContent = ticket.tier.name;
      item.querySelector('.order').textContent = ticket.order_id ? ticket.order_id.slice(0, 8).toUpperCase() : '';
      const badge = item.querySelector('.status');
      list.appendChild(item);
      if (ticket.status === 'valid' && ticket.order_id) {
        item.querySelector('.pdf').href = `/api/orders/${ticket.order_id}/tickets.pdf`;
        item.querySelector('.print').hidden = false;
      }
      if (ticket.status !== 'valid') {
        badge.textContent = ticket.status.charAt(0).toUpperCase() + ticket.status.slice(1);
        badge.classList.add('text-bg-danger');
        item.classList.add('pass-void');
        item.querySelector('.state').textContent = `This ticket was ${ticket.status}.`;
      } else if (ticket.checked_in_at) {
        // Used: no live code any more (it would only earn a Duplicate at the door).
        badge.textContent = 'Checked in';
        badge.classList.add('text-bg-secondary');
        item.querySelector('.state').textContent =
          `Checked in at ${new Date(ticket.checked_in_at).toLocaleTimeString()}`;
      } else {
        badge.textContent = 'Valid';
        badge.classList.add('text-bg-success');
        refreshCode(ticket.id, item);
      }
    }
  }

  async function load() {
    const { status, body } = await getJson('/api/me/tickets');
    if (status === 401) { $('login').hidden = false; return; }
    $('login').hidden = true;
    render(body.tickets || []);
  }

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const response = await fetch('/api/auth/login', {
      method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
    });
    if (response.ok) { load(); return; }
    const body = await response.json().catch(() => ({}));
    $('login-error').textContent = body.detail || 'Sign-in failed';
  });

  load();
})();
