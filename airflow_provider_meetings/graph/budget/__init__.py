"""One rate budget per tenant and app, shared by every process that uses the connection.

Graph throttles per app and tenant and counts throttled requests against the limit
(https://learn.microsoft.com/graph/throttling), so worker processes that pace themselves
alone keep each other throttled. Here the pace of
:class:`~airflow_provider_meetings.graph.pacing.FlowController` (its rate, the limit it
learnt, the items accepted lately) and any hold a 429 or 503 imposed live in a store that
every process reads and changes under a lock:

* :mod:`.store`: the :class:`~.store.BudgetStore` protocol and its errors;
* :mod:`.shared`: :class:`~.shared.RateBudget` (one per client: the store, the fallback to
  per-process pacing) and :class:`~.shared.SharedFlowController` (the engine's controller);
* :mod:`.file_store`, :mod:`.redis_store`, :mod:`.database_store`: the backends;
* :mod:`.factory`: :func:`~.factory.open_rate_budget`, the backend a connection names.
"""
