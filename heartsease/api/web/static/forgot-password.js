// A forgotten password: the service mails a link, or says to ask an administrator; the
// answer does not tell whether the email has an account.

import { api } from "./common.js";

const $ = (id) => document.getElementById(id);

$("forgot").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").textContent = "";
  const email = $("email").value.trim();
  if (!email.includes("@")) { $("error").textContent = "Please give the email you sign in with."; return; }
  try {
    const answer = await api("/api/auth/forgot-password", { method: "POST", json: { email } });
    $("answer").textContent = answer.detail;
    $("answer").classList.remove("hidden");
    $("forgot").classList.add("hidden");
  } catch (e) {
    $("error").textContent = e.message;
  }
});
