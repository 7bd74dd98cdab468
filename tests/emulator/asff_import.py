"""Validate an ASFF file against the Security Hub API model and import it.

Checks every finding with botocore's own parameter validation for
BatchImportFindings (the API model boto3 is generated from), then imports
the findings into the emulator in batches of 100 (the API's limit), twice,
reading back the count after each: a second import of the same report must
update, not add. Prints {"written": N, "after_first": N, "after_second": N,
"failed": N}. Exits non-zero with the validation error when the model
refuses a finding.
Usage: asff_import.py ENDPOINT_URL FILE
"""

import json
import sys

import boto3
from botocore.validate import ParamValidator


def main(endpoint, path):
    with open(path) as f:
        findings = json.load(f)
    session = boto3.session.Session(aws_access_key_id="EXAMPLEACCESSKEYID",
                                    aws_secret_access_key="EXAMPLESECRETACCESSKEY", region_name="us-east-1")
    hub = session.client("securityhub", endpoint_url=endpoint)
    shape = hub.meta.service_model.operation_model("BatchImportFindings").input_shape
    for i in range(0, len(findings), 100):
        report = ParamValidator().validate({"Findings": findings[i:i + 100]}, shape)
        if report.has_errors():
            sys.exit(report.generate_report())
    try:
        hub.enable_security_hub()
    except hub.exceptions.ResourceConflictException:
        pass

    def count():
        n, token = 0, None
        while True:
            kwargs = {"MaxResults": 100, **({"NextToken": token} if token else {})}
            page = hub.get_findings(**kwargs)
            n += len(page["Findings"])
            token = page.get("NextToken")
            if not token:
                return n

    failed = 0
    counts = []
    for _ in range(2):
        for i in range(0, len(findings), 100):
            failed += hub.batch_import_findings(Findings=findings[i:i + 100])["FailedCount"]
        counts.append(count())
    print(json.dumps({"written": len(findings), "after_first": counts[0], "after_second": counts[1], "failed": failed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
