// Static widgets: every state of a widget was drawn when the book was built
// (lessonlib.widgets._figure.Explorer.static_html); the controls pick which one to show.
// Without this script the controls stay disabled and the first state is a snapshot.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll(".lessonlib-static-widget")) {
    const data = JSON.parse(box.querySelector("script.lessonlib-static-frames").textContent);
    const controls = [...box.querySelectorAll("[data-control]")];
    const image = box.querySelector("img.lessonlib-static-frame");
    const readout = box.querySelector(".lessonlib-static-readout");
    const show = () => {
      for (const control of controls.filter((c) => c.type === "range")) {
        const text = data.labels[+control.dataset.control][+control.value];
        control.setAttribute("aria-valuetext", text);
        control.parentElement.querySelector("output").textContent = text;
      }
      const key = data.labels.map((_, k) => {
        const control = controls.find((c) => +c.dataset.control === k);
        return control ? control.value : "0";
      }).join(",");
      const frame = data.frames[key];
      if (!frame) return;
      image.src = `data:image/${data.format};base64,${data.images[frame[0]]}`;
      image.alt = frame[2];
      readout.innerHTML = frame[1];
    };
    for (const control of controls) {
      control.disabled = false;
      control.addEventListener("input", show);
      control.addEventListener("change", show);
    }
    box.classList.add("lessonlib-static-ready");
  }
});
