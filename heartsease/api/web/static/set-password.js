// Redeeming a single-use link: its token is the link's fragment (never sent to a server or
// kept in a log), taken out of the address bar at once and posted with the new password.

import { api } from "./common.js";
import { MIN_PASSWORD, passwordProblem } from "./passwords.js";

const $ = (id) => document.getElementById(id);
const linkToken = location.hash.slice(1);
history.replaceState(null, "", location.pathname);
if (!linkToken) $("error").textContent = "This page opens from the link you were given. Please use the whole link.";

$("set").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").textContent = passwordProblem($("password").value, $("again").value);
  if ($("error").textContent || !linkToken) return;
  try {
    await api("/api/auth/set-password", { method: "POST", json: { token: linkToken, password: $("password").value } });
  } catch (e) {
    $("error").textContent = e.message;
    return;
  }
  $("set").classList.add("hidden");
  $("done").classList.remove("hidden");
});
$("password").minLength = MIN_PASSWORD;
