() => {
  // Gradio refuses some uploads in the browser (a file type or size it was told to refuse) and says so only in a
  // toast that fades; the page's own upload status says it too, and stays. Text only: nothing is parsed as HTML.
  const seen = new WeakSet();
  const mirror = () => {
    for (const toast of document.querySelectorAll('[data-testid="toast-text"]')) {
      if (seen.has(toast)) continue;
      seen.add(toast);
      const message = toast.textContent.trim();
      const status = document.querySelector("#rag-status");
      if (!status || !/file/i.test(message)) continue;
      const line = document.createElement("span");
      line.className = "rag-error rag-refused";
      line.textContent = `Refused · 未接受: ${message}`;
      const body = status.querySelector(".prose") || status;
      body.replaceChildren(line);
    }
  };
  new MutationObserver(mirror).observe(document.body, { childList: true, subtree: true });
  // How a follow-up was read is a question of its own: a click puts it in the question box, to edit and ask.
  document.addEventListener("click", (event) => {
    const reading = event.target.closest && event.target.closest(".rag-read-as q");
    const box = document.querySelector("#rag-question textarea");
    if (!reading || !box) return;
    box.value = reading.textContent;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });
}
