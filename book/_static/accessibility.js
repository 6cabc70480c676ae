// Accessibility fixes to markup the theme and extensions write (found by the axe-core
// audit of tests/browser/test_book_pages.py):
// * the sidebar's expand/collapse toggles (<summary> holding only an icon) get a name;
// * the bibliography's entries, in a role="list", get role="listitem" (their role
//   "doc-biblioentry" is deprecated and not a list item);
// * every code block and output that scrolls takes the keyboard focus, so a reader without
//   a mouse can scroll it (the theme does this when the page loads or resizes, not when a
//   solution with a wide code block is opened).
const focusScrollable = () => {
  for (const block of document.querySelectorAll("article pre, article .cell_output > .output")) {
    if (block.scrollWidth > block.clientWidth || block.scrollHeight > block.clientHeight) block.tabIndex = 0;
  }
};
// Once everything has loaded, and whenever a solution or dropdown opens or closes.
window.addEventListener("load", focusScrollable);
document.addEventListener("DOMContentLoaded", () => {
  const article = document.querySelector("article");
  if (article) {
    new MutationObserver(focusScrollable).observe(article, {
      subtree: true, attributes: true, attributeFilter: ["class", "open", "style", "hidden"],
    });
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
