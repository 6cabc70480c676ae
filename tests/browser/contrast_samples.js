() => {
  // axe-core's color-contrast rule measures every element that holds text, and a page of
  // highlighted code or API signatures has thousands of them (11,000 on the API page) in a
  // few dozen looks. Contrast depends only on the look: the text's colour, size, weight and
  // shadow, and the colours, images, opacities and blending of the backgrounds behind it up
  // to the first opaque one. This marks one element per look with data-contrast-sample
  // (the first that is rendered), and every element that is not rendered (a sample must be
  // one axe can measure); the audit points color-contrast at the marked ones.
  const seen = new Set();
  let marked = 0, withText = 0;
  const look = (el) => {
    const own = getComputedStyle(el);
    const parts = [own.color, own.fontSize, own.fontWeight, own.textShadow, own.opacity, own.visibility,
                   own.backgroundColor, own.backgroundImage, own.mixBlendMode, own.filter];
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      parts.push(s.backgroundColor, s.backgroundImage, s.opacity, s.mixBlendMode, s.filter);
      if (s.backgroundImage === "none" && s.backgroundColor.startsWith("rgb(") && s.opacity === "1") break;
    }
    return parts.join("|");
  };
  const rendered = (el) => el.getClientRects().length > 0 &&
    (!el.checkVisibility || el.checkVisibility({opacityProperty: true, visibilityProperty: true}));
  for (const el of document.body.querySelectorAll("*")) {
    if (![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    withText++;
    if (rendered(el)) {
      const key = look(el);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    el.setAttribute("data-contrast-sample", "");
    marked++;
  }
  return {withText, marked};
}
