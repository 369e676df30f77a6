// The live timeline of a document page: the server sends the re-rendered (autoescaped) timeline
// fragment over server-sent events whenever the document has a new event. Without JavaScript,
// the page still shows the timeline as of loading.
(function () {
  "use strict";
  var region = document.getElementById("timeline");
  var note = document.getElementById("live-note");
  if (!region || !window.EventSource) {
    return;
  }
  var source = new EventSource(region.getAttribute("data-live"));
  source.addEventListener("timeline", function (event) {
    region.innerHTML = event.data;
    if (note) {
      note.textContent = "Đã cập nhật trạng thái mới.";
    }
  });
  source.addEventListener("open", function () {
    if (note) {
      note.textContent = "Trang tự cập nhật khi có trạng thái mới.";
    }
  });
  source.addEventListener("error", function () {
    if (note && source.readyState === EventSource.CLOSED) {
      note.textContent = "Mất kết nối cập nhật tự động; hãy tải lại trang.";
    } else if (note) {
      note.textContent = "Đang kết nối lại để cập nhật…";
    }
  });
})();
