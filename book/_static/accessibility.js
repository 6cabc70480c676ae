// Accessibility fixes to markup the theme and extensions write (found by the axe-core
// audit of tests/browser/test_book_pages.py):
// * the sidebar's expand/collapse toggles (<summary> holding only an icon) get a name;
// * the bibliography's entries, in a role="list", get role="listitem" (their role
//   "doc-biblioentry" is deprecated and not a list item);
// * every code block and output can take the keyboard focus, so a reader without a mouse
//   can scroll it (the theme does this only for blocks that scroll when the page loads,
//   not for those inside a solution that is opened later).
document.addEventListener("DOMContentLoaded", () => {
  for (const block of document.querySelectorAll("article pre")) {
    if (!block.hasAttribute("tabindex")) block.setAttribute("tabindex", "0");
  }
  for (const summary of document.querySelectorAll("nav details > summary")) {
    if (summary.textContent.trim() || summary.hasAttribute("aria-label")) continue;
    const link = summary.parentElement.parentElement.querySelector(":scope > a");
    const title = link ? link.textContent.trim().replace(/\s+/g, " ") : "this chapter";
    summary.setAttribute("aria-label", `Sections of ${title}`);
  }
  for (const entry of document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]')) {
    entry.setAttribute("role", "listitem");
  }
});
