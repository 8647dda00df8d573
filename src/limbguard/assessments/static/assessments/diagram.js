// Clicking a zone of the foot/leg diagram selects that location in the wound form.
document.addEventListener("click", function (event) {
  var zone = event.target.closest && event.target.closest("[data-zone]");
  if (!zone) return;
  var select = document.getElementById(zone.closest("[data-for]").dataset.for);
  if (!select) return;
  select.value = zone.dataset.zone;
  select.dispatchEvent(new Event("change", { bubbles: true }));
});
document.addEventListener("change", function (event) {
  if (!event.target.matches || !event.target.matches("select[data-diagram]")) return;
  document.querySelectorAll("[data-zone]").forEach(function (zone) {
    zone.classList.toggle("selected", zone.dataset.zone === event.target.value);
  });
});
