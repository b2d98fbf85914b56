#include "api/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cordon::api {
namespace {

TEST(CsvTest, PlainCellsStayAsTheyAre) {
  EXPECT_EQ(CsvCell("alice.adams"), "alice.adams");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("phishing INC-1234"), "phishing INC-1234") << "a minus inside a cell is harmless";
}

TEST(CsvTest, QuotesCellsWithCommasQuotesAndLineBreaks) {
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvCell("cr\rhere"), "\"cr\rhere\"");
}

TEST(CsvTest, NeutralisesWhatASpreadsheetWouldRunAsAFormula) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+1"), "'+1");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\tcmd"), "'\tcmd");
  EXPECT_EQ(CsvCell("\r=1"), "\"'\r=1\"");
}

TEST(CsvTest, RecordsEndWithCrlf) {
  std::string out;
  const std::vector<std::string> header{"id", "account"};
  const std::vector<std::string> row{"act_1", "=cmd|' /C calc'!A0"};
  AppendCsvRecord(out, header);
  AppendCsvRecord(out, row);
  EXPECT_EQ(out, "id,account\r\nact_1,'=cmd|' /C calc'!A0\r\n");
}

}  // namespace
}  // namespace cordon::api
