// Example single-page app for Gatehouse, on oidc-client-ts.
//
// - Authorization code flow with PKCE (S256), as a public client.
// - Tokens in memory only (InMemoryWebStorage): nothing an injected script
//   could read back from localStorage after a reload. The PKCE verifier and
//   state live in sessionStorage just for the round trip to Gatehouse.
// - Renewal with the refresh token (signinSilent uses it when there is one);
//   Gatehouse rotates it at every use.
// - UserInfo called with the access token (cross-origin: Gatehouse allows
//   the origins of the client's registered redirect URIs).
// - Logout: the tokens are revoked, then signoutRedirect sends the browser
//   to the end_session_endpoint with the ID token as hint.
//
// /config.json, served beside the app, names the issuer and the client id.
import { InMemoryWebStorage, UserManager, WebStorageStateStore } from "oidc-client-ts";

const $ = (id) => document.getElementById(id);
const callbackPath = "/callback";
const signedOutPath = "/signed-out";

let manager;
let renewals = 0;

async function main() {
  bindButtons();
  try {
    const config = await loadConfig();
    manager = new UserManager({
      authority: config.issuer,
      client_id: config.client_id,
      redirect_uri: location.origin + callbackPath,
      post_logout_redirect_uri: location.origin + signedOutPath,
      response_type: "code",
      scope: config.scope || "openid profile email offline_access",
      userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
      stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
      automaticSilentRenew: true,
      revokeTokensOnSignout: true,
      loadUserInfo: false,
    });
    manager.events.addSilentRenewError((err) => showError("Automatic renewal failed: " + describe(err)));
    await handleRedirects();
    render(await manager.getUser());
  } catch (err) {
    showError(describe(err));
    render(null);
  }
}

async function loadConfig() {
  const resp = await fetch("/config.json", { cache: "no-store" });
  if (!resp.ok) {
    throw new Error("config.json: HTTP " + resp.status);
  }
  const config = await resp.json();
  if (!config.issuer || !config.client_id) {
    throw new Error("config.json needs issuer and client_id");
  }
  return config;
}

// handleRedirects finishes a sign-in or sign-out that Gatehouse sent the
// browser back from, then cleans the address bar.
async function handleRedirects() {
  const path = location.pathname;
  if (path !== callbackPath && path !== signedOutPath) {
    return;
  }
  try {
    if (path === callbackPath) {
      await manager.signinCallback();
      showStatus("Signed in.");
    } else {
      await manager.signoutCallback();
      showStatus("You are signed out of this app and of Gatehouse.");
    }
  } finally {
    history.replaceState(null, "", "/");
  }
}

function bindButtons() {
  $("login").addEventListener("click", () => busy($("login"), () => manager.signinRedirect()));
  $("renew").addEventListener("click", () =>
    busy($("renew"), async () => {
      const user = await manager.signinSilent();
      renewals++;
      render(user);
      showStatus("Tokens renewed with the refresh token at " + new Date().toISOString().slice(11, 19) + " UTC.");
    }),
  );
  $("call-userinfo").addEventListener("click", () => busy($("call-userinfo"), callUserInfo));
  $("logout").addEventListener("click", () => busy($("logout"), () => manager.signoutRedirect()));
}

// busy disables a button while its action runs and shows any error.
async function busy(button, action) {
  button.disabled = true;
  hideError();
  try {
    await action();
  } catch (err) {
    showError(describe(err));
  } finally {
    button.disabled = false;
  }
}

async function callUserInfo() {
  const user = await manager.getUser();
  if (!user) {
    throw new Error("Not signed in.");
  }
  const endpoint = await manager.metadataService.getUserInfoEndpoint();
  const resp = await fetch(endpoint, { headers: { Authorization: "Bearer " + user.access_token } });
  if (!resp.ok) {
    throw new Error("UserInfo answered HTTP " + resp.status);
  }
  const info = await resp.json();
  if (info.sub !== user.profile.sub) {
    throw new Error("UserInfo names another user than the ID token.");
  }
  $("userinfo").textContent = JSON.stringify(info, null, 2);
  showStatus("UserInfo called.");
}

function render(user) {
  $("loading").hidden = true;
  const signedIn = Boolean(user && !user.expired);
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  if (!signedIn) {
    $("title").textContent = "Example single-page app";
    return;
  }
  const p = user.profile;
  $("title").textContent = "Hello, " + (p.name || p.preferred_username || p.sub);
  const body = $("claims").tBodies[0];
  body.replaceChildren(
    ...Object.keys(p)
      .sort()
      .map((k) => row(k, p[k])),
  );
  $("access-expires").textContent = new Date(user.expires_at * 1000).toISOString();
  $("refresh-status").textContent = user.refresh_token ? "received, rotated at every renewal" : "none";
  $("renewals").textContent = String(renewals);
  digest(user.access_token).then((d) => ($("access-digest").textContent = d));
}

function row(name, value) {
  const tr = document.createElement("tr");
  tr.dataset.claim = name;
  const th = document.createElement("th");
  th.scope = "row";
  const code = document.createElement("code");
  code.textContent = name;
  th.append(code);
  const td = document.createElement("td");
  td.textContent = typeof value === "string" ? value : JSON.stringify(value);
  tr.append(th, td);
  return tr;
}

// digest shows that a renewal changed the token without showing the token.
async function digest(token) {
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return Array.from(new Uint8Array(sum).slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

function describe(err) {
  if (err && err.error === "access_denied") {
    return "You did not allow this app to access your account, so you are not signed in.";
  }
  if (err && err.error) {
    return "Gatehouse answered " + err.error + (err.error_description ? ": " + err.error_description : "") + ".";
  }
  return (err && err.message) || String(err);
}

function showStatus(text) {
  $("status").textContent = text;
  $("status").hidden = false;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = false;
}

function hideError() {
  $("error").hidden = true;
}

main();
