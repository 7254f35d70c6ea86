// Passkeys on the sign-in pages: a progressive enhancement over the password forms.
// It calls the JSON API the pages sit on (/auth/webauthn/*, /auth/mfa*) and, once the
// server has set the session cookie, continues to the page's `next` address.
"use strict";

(function () {
  const supported = window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
  if (!supported) {
    return;
  }
  const area = document.getElementById("passkey-area");
  if (area) {
    area.hidden = false;
  }
  const errorBox = document.getElementById("passkey-error");

  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  async function postJson(path, body, csrf) {
    const headers = { "Content-Type": "application/json" };
    if (csrf) {
      headers["X-CSRF-Token"] = csrf;
    }
    const response = await fetch(path, {
      method: "POST",
      headers,
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(answer.detail || answer.title || "the server refused");
    }
    return answer;
  }

  async function assertion(start) {
    const options = PublicKeyCredential.parseRequestOptionsFromJSON(start.options.publicKey);
    const credential = await navigator.credentials.get({ publicKey: options });
    return { ceremony_id: start.ceremony_id, credential: credential.toJSON() };
  }

  // Only same-origin paths, as the server rendered them.
  function go(next) {
    window.location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/account");
  }

  // The account page: register a passkey (the session's form token as the CSRF token).
  const register = document.getElementById("passkey-register");
  if (register) {
    register.hidden = false;
    const registerError = document.getElementById("passkey-register-error");
    document.getElementById("passkey-register-button").addEventListener("click", async () => {
      const csrf = register.dataset.csrf;
      try {
        const start = await postJson("/me/webauthn/register/start", {
          name: document.getElementById("passkey_name").value,
          password: document.getElementById("passkey_password").value,
        }, csrf);
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(start.options.publicKey);
        const created = await navigator.credentials.create({ publicKey });
        await postJson("/me/webauthn/register/finish",
          { ceremony_id: start.ceremony_id, credential: created.toJSON() }, csrf);
        window.location.assign("/account#passkeys");
      } catch (err) {
        registerError.textContent = "Adding the passkey failed: " + err.message;
        registerError.hidden = false;
      }
    });
  }

  const passwordless = document.getElementById("passkey-sign-in");
  if (passwordless) {
    passwordless.addEventListener("click", async () => {
      try {
        const answer = await assertion(await postJson("/auth/webauthn/start", {}));
        await postJson("/auth/webauthn/finish", answer);
        go(passwordless.dataset.next);
      } catch (err) {
        fail("Passkey sign-in failed: " + err.message);
      }
    });
  }

  const secondFactor = document.getElementById("passkey-second-factor");
  if (secondFactor) {
    secondFactor.addEventListener("click", async () => {
      const mfaToken = secondFactor.dataset.mfaToken;
      try {
        const start = await postJson("/auth/mfa/webauthn/start", { mfa_token: mfaToken });
        await postJson("/auth/mfa", { mfa_token: mfaToken, webauthn: await assertion(start) });
        go(secondFactor.dataset.next);
      } catch (err) {
        fail("Passkey check failed: " + err.message);
      }
    });
  }
})();
