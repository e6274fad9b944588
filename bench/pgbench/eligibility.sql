-- Baseline of the bulk eligibility check: the single SQL query over the same ids as the service's
-- request, sent as one uuid[] literal (bench/run.sh puts the ids in place of the IDS marker).
-- Erased and restricted subjects are never eligible, as in the service.
SELECT x.id,
       CASE WHEN s.id IS NULL THEN 'unknown'
            WHEN s.erased_at IS NOT NULL OR s.restriction_ground IS NOT NULL THEN 'not_eligible'
            WHEN CASE p.basis WHEN 'opt_in' THEN c.status = 'granted'
                              ELSE c.status IS DISTINCT FROM 'withdrawn' END THEN 'eligible'
            ELSE 'not_eligible' END AS verdict
FROM unnest('@IDS@'::uuid[]) AS x(id)
CROSS JOIN (SELECT basis FROM purposes WHERE id = 'marketing_planpro') p
LEFT JOIN subjects s ON s.id = x.id
LEFT JOIN consents c ON c.subject_id = x.id AND c.purpose_id = 'marketing_planpro';
