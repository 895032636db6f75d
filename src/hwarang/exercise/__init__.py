"""Hwarang exercises: scenario files, injection, measurement, evaluation, reports, drills and simulation.

See docs/exercise.md. The flow: a scenario (:mod:`.scenario`) is planned against the region
catalog (:mod:`.plan`), injected on a clock (:mod:`.injector`; figures drawn at an edge camera by
the ``overlay`` source, :mod:`.edge`), measured from the hub's tables (:mod:`.measurement`), scored
with a checklist (:mod:`.checklist`, :mod:`.evaluation`) and reported (:mod:`.report`).
:mod:`.simulate` runs a national exercise with simulated people; :mod:`.replay` plays an exercise
back; :mod:`.drills` trains and certifies operators.
"""
