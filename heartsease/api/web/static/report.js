// One session's report, shown from the API's HTML in a frame without scripts, and its
// downloads.

import { isId, me, nav, request } from "./common.js";

const session = new URLSearchParams(location.search).get("session") || "";
const base = "/api/sessions/" + encodeURIComponent(session) + "/";

async function fetchOrExplain(path) {
  if (!isId(session)) throw new Error("This session isn't here, or it isn't yours to see.");
  const response = await request(path);
  if (response.status === 404) throw new Error("This session isn't here, or it isn't yours to see.");
  if (!response.ok) throw new Error("The report could not be made just now. Please try again in a moment.");
  return response;
}

if (document.referrer.startsWith(location.origin + "/trends")) {
  document.getElementById("back").href = document.referrer;  // the same client and days
} else if (document.referrer.startsWith(location.origin + "/observe")) {
  Object.assign(document.getElementById("back"), { href: "/observe", textContent: "\u2190 Back to the observation room" });
}
me().then(async (person) => {
  if (!person) return;
  nav(person, "");
  try {
    const response = await fetchOrExplain(base + "report?format=html");
    const frame = document.getElementById("report");
    frame.addEventListener("load", () => {
      frame.style.height = frame.contentDocument.documentElement.scrollHeight + 24 + "px";
    });
    frame.srcdoc = await response.text();
  } catch (e) {
    document.getElementById("error").textContent = e.message;
    document.getElementById("report").classList.add("hidden");
    // Nothing to download from a session that is not there.
    document.querySelector(".downloads").classList.add("hidden");
  }
});
for (const button of document.querySelectorAll("[data-href]")) {
  button.addEventListener("click", async () => {
    try {
      const response = await fetchOrExplain(base + button.dataset.href);
      const name = (response.headers.get("Content-Disposition") || "").match(/filename="?([^";]+)/);
      const link = Object.assign(document.createElement("a"), {
        href: URL.createObjectURL(await response.blob()), download: name ? name[1] : "heartsease-session" });
      link.click();
      URL.revokeObjectURL(link.href);
    } catch (e) {
      document.getElementById("error").textContent = e.message;
    }
  });
}
