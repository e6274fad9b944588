DROP TABLE download_links;
DROP TABLE access_responses;
