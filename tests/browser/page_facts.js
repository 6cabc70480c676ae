// What a reader sees on a book page, read from the rendered DOM once the page has loaded
// and MathJax has finished. Evaluated by tests/browser/test_book_pages.py.
() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const snippet = (text, index) => text.slice(Math.max(0, index - 30), index + 50).replace(/\s+/g, " ");

  // Formulas: every math element typeset by MathJax, none with a TeX error.
  const mathElements = [...article.querySelectorAll(".math")];
  const untypeset = mathElements
    .filter((el) => !el.querySelector("mjx-container"))
    .map((el) => el.textContent.trim().slice(0, 80));
  const mathErrors = [...article.querySelectorAll("mjx-merror, [data-mjx-error]")].map(
    (el) => el.getAttribute("data-mjx-error") || el.textContent.slice(0, 80)
  );
  // Raw TeX left in the prose (code, outputs and typeset math are skipped).
  const skip = "pre, code, script, style, textarea, kbd, samp, mjx-container, .highlight, .cell_output, .output";
  const texPattern = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\(frac|sum|prod|mathbf|mathrm|lVert|rVert|cdot|sqrt|odot|tanh|sigma|alpha|top)\b|\$[^$\s][^$\n]{0,80}[^$\s\\]\$/;
  const rawTex = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement || node.parentElement.closest(skip)) continue;
    const match = node.textContent.match(texPattern);
    if (match) rawTex.push(snippet(node.textContent, match.index));
  }

  // Images, as the browser decoded them.
  const images = [...document.images].map((img) => ({
    src: (img.currentSrc || img.src).slice(0, 120),
    complete: img.complete,
    width: img.naturalWidth,
    height: img.naturalHeight,
  }));

  // Links and the anchors this page offers.
  const links = [...document.querySelectorAll("a[href]")].map((a) => ({
    href: a.href,
    raw: a.getAttribute("href"),
    text: a.textContent.trim().replace(/\s+/g, " ").slice(0, 60),
  }));

  // Header buttons: launch (Binder, Colab, JupyterHub), download, repository.
  const buttons = (selector) =>
    [...document.querySelectorAll(selector)].map((el) => ({
      text: el.textContent.trim().replace(/\s+/g, " "),
      href: el.href || null,
      classes: el.className,
      onclick: el.getAttribute("onclick"),
    }));
  const launch = buttons(".dropdown-launch-buttons .dropdown-menu a");
  const download = buttons(".dropdown-download-buttons .dropdown-menu a, .dropdown-download-buttons .dropdown-menu button");
  const source = buttons(".dropdown-source-buttons .dropdown-menu a, a.btn-source-repository-button");

  // Glyphs: every character on the page drawn by some font, not as the missing-glyph box.
  // A character that renders exactly like unassigned code points has no glyph.
  const font = getComputedStyle(article).fontFamily;
  const canvas = document.createElement("canvas");
  canvas.width = 48;
  canvas.height = 48;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.font = `32px ${font}`;
  ctx.textBaseline = "top";
  const draw = (ch) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.fillText(ch, 2, 2);
    const data = ctx.getImageData(0, 0, 48, 48).data;
    let hash = 0;
    for (let i = 3; i < data.length; i += 4) hash = (hash * 31 + data[i]) | 0;
    return `${hash}:${ctx.measureText(ch).width}`;
  };
  const tofu = new Set(["\u0378", "\u0379", "\u{10FFFD}"].map(draw));
  const control = "\u0380"; // also unassigned: the detector must flag it, or it proves nothing
  const text = document.body.innerText;
  const chars = [...new Set([...text].filter((ch) => ch.codePointAt(0) > 0x7f && !/[\s\p{M}\p{Cf}\p{Co}]/u.test(ch)))];
  const missingGlyphs = chars.filter((ch) => tofu.has(draw(ch)));

  return {
    title: document.title,
    mathCount: mathElements.length,
    untypeset,
    mathErrors,
    rawTex,
    images,
    links,
    launch,
    download,
    source,
    glyphsChecked: chars.length,
    missingGlyphs,
    glyphDetectorWorks: tofu.has(draw(control)) && !tofu.has(draw("a")),
    snapshots: article.querySelectorAll(".lessonlib-widget-snapshot img").length,
    staticWidgets: article.querySelectorAll(".lessonlib-static-widget").length,
    mathjax: typeof window.MathJax === "object" && !!window.MathJax.startup,
    widgetText: [...article.querySelectorAll(".cell_output pre, .output pre")]
      .map((pre) => pre.textContent)
      .filter((t) => /^\s*(VBox|HBox|Box|Explorer|IntSlider|FloatSlider|Dropdown|Output|Image)\(/.test(t))
      .map((t) => t.slice(0, 80)),
  };
}
