// Signing in: the sign-in is a cookie the browser keeps for every tab, and each role lands
// on its own page.

const reasons = {
  expired: "You were signed out after a while. Please sign in again.",
  "signed-out": "You have been signed out, here or in another window. Sign in again whenever you are ready.",
};
const asked = new URLSearchParams(location.search);
const reason = asked.get("reason");
// Back to the page that sent the person here: one of this site's own paths, never another's.
const next = asked.get("next");
const back = next && /^\/[a-z-]*(\?[^#\\]*)?$/.test(next) ? next : null;
if (Object.hasOwn(reasons, reason)) document.getElementById("reason").textContent = reasons[reason];

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  if (!document.getElementById("email").value.trim() || !document.getElementById("password").value) {
    error.textContent = "Please write your email and your password.";
    return;
  }
  const body = new URLSearchParams({
    username: document.getElementById("email").value.trim(),
    password: document.getElementById("password").value,
  });
  const response = await fetch("/api/auth/session", { method: "POST", body });
  if (!response.ok) {
    error.textContent = response.status === 429 ? (await response.json()).detail
      : "That email and password don't match an account. Please try again.";
    return;
  }
  const signIn = await response.json();
  location.href = back || (signIn.role === "clinician" ? "/observe" : signIn.role === "client" ? "/breathe" : "/admin");
});
