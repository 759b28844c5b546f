-- How a completed task went, when the CSM says so on completing it.
alter table tasks add column outcome intervention_outcome;
