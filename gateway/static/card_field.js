// The card field of the buy and lottery pages: Stripe.js Elements, or localstripe's mock of it
// offline. Card numbers go from this page to Stripe only; TicketQ sees ids and client secrets.
//
// pay(checkout) takes the page's own call to our API (a function of the request body that
// answers {status, client_secret, reason, ...}) and returns {result, error}:
// - real Stripe: checkout({}) makes the intent (the server decides the amount), then
//   stripe.confirmCardPayment(client_secret, {payment_method: {card}}) charges the card and
//   runs 3-D Secure in Stripe's frame. A decline leaves the intent requires_payment_method;
//   the next pay() confirms the same intent again with the new card, as Stripe expects.
// - localstripe: its mock confirmCardPayment ignores the card (it only answers a 3-D Secure
//   challenge), so the card becomes a token (stripe.createToken, which the mock and Stripe
//   both support), the token's card id goes to checkout({payment_method}), the server
//   confirms, and a requires_action answer is completed with confirmCardPayment(secret).
//
// Both pages use pay() (the lottery entry too, docs/lottery.md). paymentMethod() answers
// {id, error}: the card as an id for a server that confirms by itself:
// stripe.createPaymentMethod on real Stripe (a no-op in the mock), the token's card id offline.
(function () {
  "use strict";

  function mount(container) {
    const flavour = container.dataset.stripeFlavour;
    const stripe = window.Stripe(container.dataset.stripeKey);
    const card = stripe.elements().create("card");
    card.mount(container);

    async function payWithStripe(checkout) {
      const started = await checkout({});
      if (!["requires_payment_method", "requires_confirmation", "requires_action"]
        .includes(started.status)) return { result: started, error: null };
      const confirmed = await stripe.confirmCardPayment(started.client_secret,
                                                        { payment_method: { card } });
      return { result: started, error: confirmed.error ? confirmed.error.message : null };
    }

    async function paymentMethod() {
      const made = flavour === "stripe"
        ? await stripe.createPaymentMethod({ type: "card", card })
        : await stripe.createToken(card);
      const id = made.paymentMethod ? made.paymentMethod.id : made.token && made.token.card.id;
      if (made.error || !id) {
        return { id: null, error: (made.error && made.error.message) || "Check the card details." };
      }
      return { id, error: null };
    }

    async function payWithMock(checkout) {
      const made = await paymentMethod();
      if (made.error) return { result: null, error: made.error };
      const result = await checkout({ payment_method: made.id });
      if (result.status !== "requires_action") return { result, error: null };
      const confirmed = await stripe.confirmCardPayment(result.client_secret);
      return { result, error: confirmed.error ? confirmed.error.message || "Authentication failed." : null };
    }

    return { pay: flavour === "stripe" ? payWithStripe : payWithMock, paymentMethod };
  }

  window.TicketQCardField = { mount };
})();
