/* Drag to reorder (HTML5 drag and drop, no library): a list marked data-reorder-url has
   draggable items carrying data-position (their place when the page was drawn). On drop
   the new order of those positions is posted through htmx to the same action the up/down
   buttons use, and the list's section is swapped with the answer (the section alone:
   pbx/portal/views/ordering.py), a refusal's reason included. The buttons stay: they
   work from the keyboard and without JavaScript. Lists: templates/portal/_ordered_list.html. */
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

  function isList(element) {
    return element && element.hasAttribute && element.hasAttribute("data-reorder-url");
  }

  // A refused order (400: the list changed meanwhile, the action said no) comes back as
  // the list's section with the saved order and the reason above it: swap it in like a
  // success. Anything else (signed out, a server error) reloads the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    // (This event's elt is the target, the section; the request's is the list.)
    var config = event.detail.requestConfig;
    if (config && isList(config.elt) && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    if (isList(event.detail && event.detail.elt)) window.location.reload();
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
