/* Drag to reorder (HTML5 drag and drop, no library): a list marked data-reorder-url has
   draggable items carrying data-position (their place when the page was drawn). On drop
   the new order of those positions is posted through htmx to the same action the up/down
   buttons use, and the list's section is swapped with the answer. The buttons stay: they
   work from the keyboard and without JavaScript. */
(function () {
  "use strict";
  var dragged = null;

  function itemOf(target) {
    while (target && !(target.tagName === "LI" && target.hasAttribute("data-position"))) {
      target = target.parentElement;
    }
    return target;
  }

  function csrfToken(list) {
    var input = list.closest("section").querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(list) {
    var order = Array.prototype.map.call(list.querySelectorAll("li[data-position]"), function (li) {
      return li.getAttribute("data-position");
    });
    var section = list.closest("section");
    htmx.ajax("POST", list.getAttribute("data-reorder-url"), {
      source: list,
      target: "#" + section.id,
      select: "#" + section.id,
      swap: "outerHTML",
      values: { operation: "order", order: order.join(",") },
      headers: { "X-CSRFToken": csrfToken(list) }
    });
  }

  // A refused order (the list changed meanwhile) is not swapped in: show the saved one.
  document.addEventListener("htmx:responseError", function (event) {
    var source = event.detail && event.detail.elt;
    if (source && source.hasAttribute && source.hasAttribute("data-reorder-url")) window.location.reload();
  });

  document.addEventListener("dragstart", function (event) {
    var item = itemOf(event.target);
    if (!item || !item.parentElement.hasAttribute("data-reorder-url")) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-position"));
  });

  document.addEventListener("dragover", function (event) {
    var item = itemOf(event.target);
    if (!dragged || !item || item === dragged || item.parentElement !== dragged.parentElement) return;
    event.preventDefault();
    var box = item.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    item.parentElement.insertBefore(dragged, after ? item.nextSibling : item);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentElement;
    dragged.classList.remove("dragging");
    dragged = null;
    post(list);
  });
})();
