// A self-rating that needs a touch: eleven buttons (0 to 10) and "Skip". Nothing is given
// until the person chooses, so no value is ever stored that they did not give.

let made = 0;

// Build the control in `container`; `onGiven` hears the value (0-10) or "skipped", and may
// return a promise that settles once the value is kept.
export function ratingControl(container, { question, low, high, onGiven }) {
  made += 1;
  const id = "rating-" + made;
  const group = document.createElement("fieldset");
  group.className = "rating-scale";
  const legend = Object.assign(document.createElement("legend"), { id, textContent: question });
  const scale = document.createElement("div");
  scale.className = "rating-buttons";
  scale.setAttribute("role", "group");
  scale.setAttribute("aria-labelledby", id);
  const buttons = [];
  // Thanked only once it is kept: a rating that did not reach the service is said so.
  const choose = async (value, chosen) => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b === chosen));
    note.textContent = "";
    try {
      await onGiven(value);
      note.textContent = value === "skipped" ? "Skipped: that's fine." : "Thank you.";
    } catch (e) {
      chosen.setAttribute("aria-pressed", "false");
      note.textContent = "That was not saved: " + e.message + " You can choose again.";
    }
  };
  for (let value = 0; value <= 10; value += 1) {
    const b = Object.assign(document.createElement("button"), { type: "button", textContent: String(value),
                                                              className: "quiet" });
    b.dataset.value = String(value);
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => choose(value, b));
    buttons.push(b);
    scale.append(b);
  }
  const skip = Object.assign(document.createElement("button"), { type: "button", textContent: "Skip",
                                                               className: "quiet skip" });
  skip.setAttribute("aria-pressed", "false");
  skip.addEventListener("click", () => choose("skipped", skip));
  buttons.push(skip);
  const ends = Object.assign(document.createElement("p"), { className: "status",
                                                          textContent: "0 " + low + " · 10 " + high });
  const note = Object.assign(document.createElement("p"), { className: "status" });
  note.setAttribute("aria-live", "polite");
  group.append(legend, scale, ends, skip, note);
  container.append(group);
  return group;
}
