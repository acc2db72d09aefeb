// Signing in: the token is kept for this tab only, and each role lands on its own page.

import { api, keepToken } from "./common.js";

const reason = new URLSearchParams(location.search).get("reason");
if (reason === "expired") {
  document.getElementById("reason").textContent = "You were signed out after a while. Please sign in again.";
}
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  const body = new URLSearchParams({
    username: document.getElementById("email").value.trim(),
    password: document.getElementById("password").value,
  });
  const response = await fetch("/api/auth/token", { method: "POST", body });
  if (!response.ok) {
    error.textContent = response.status === 429 ? (await response.json()).detail
      : "That email and password don't match an account. Please try again.";
    return;
  }
  keepToken((await response.json()).access_token);
  const person = await api("/api/me");
  location.href = person.role === "clinician" ? "/observe" : person.role === "client" ? "/breathe" : "/admin";
});
