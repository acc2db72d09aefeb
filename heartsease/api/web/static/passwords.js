// What a new password must be, said before it is sent (the server checks it too).

export const MIN_PASSWORD = 10;

export function passwordProblem(password, again) {
  if (password.length < MIN_PASSWORD) return `A password needs at least ${MIN_PASSWORD} characters.`;
  if (password !== again) return "The two passwords are not the same.";
  return "";
}
