window.addEventListener("load", function () {
  var img = document.getElementById("picture");
  var heading = document.getElementById("heading");
  var green = getComputedStyle(heading).color === "rgb(0, 128, 0)";
  document.getElementById("result").textContent =
    "image " + (img.complete && img.naturalWidth > 0 ? "loaded" : "missing") +
    ", stylesheet " + (green ? "applied" : "missing");
});
