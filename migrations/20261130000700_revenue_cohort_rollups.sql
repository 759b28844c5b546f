-- Cohort cells summed over every team, so the whole book's heatmap reads a few hundred rows
-- rather than summing thousands per request.
alter table revenue_cohorts add column every_team boolean not null default false;
